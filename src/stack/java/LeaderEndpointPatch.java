package optflow.stack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * KAFKA-20734 (apache/kafka#22680, open): since Kafka 4.1 the broker's KRaftMetadataCache answers "no
 * endpoint" for a partition that exists but has no leader, where 3.x answered Node.noNode(). The
 * transaction marker sender reads "no endpoint" as "partition deleted" and skips its markers, so a
 * transaction completed while a partition is leaderless (a single broker shutting down or starting up)
 * stays open on that partition for ever: read_committed consumers stop there, and a group's committed
 * offsets become unreadable.
 *
 * This rewrites the one lambda of getPartitionLeaderEndpoint that runs for an existing partition so that
 * it returns Optional.of(endpoint.orElse(Node.noNode())), the 3.x answer: markers of a leaderless
 * partition wait for its leader. Usage: LeaderEndpointPatch kafka-metadata.jar outDir. Prints "patched"
 * (the class is written under outDir) or "not needed" (no such class or lambda: an older or fixed Kafka).
 */
public final class LeaderEndpointPatch {
  private static final String CLASS = "org/apache/kafka/metadata/KRaftMetadataCache";
  private static final String LAMBDA_PREFIX = "lambda$getPartitionLeaderEndpoint$";
  private static final String LAMBDA_DESC =
      "(Lorg/apache/kafka/image/MetadataImage;Lorg/apache/kafka/common/network/ListenerName;Lorg/apache/kafka/metadata/PartitionRegistration;)Ljava/util/Optional;";

  public static void main(String[] args) throws Exception {
    byte[] original;
    try (ZipFile jar = new ZipFile(args[0])) {
      ZipEntry entry = jar.getEntry(CLASS + ".class");
      if (entry == null) {
        System.out.println("not needed");
        return;
      }
      original = jar.getInputStream(entry).readAllBytes();
    }
    ClassReader reader = new ClassReader(original);
    ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
    int[] patched = {0};
    reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        MethodVisitor method = super.visitMethod(access, name, desc, signature, exceptions);
        if (!name.startsWith(LAMBDA_PREFIX) || !desc.equals(LAMBDA_DESC)) return method;
        return new MethodVisitor(Opcodes.ASM9, method) {
          @Override
          public void visitInsn(int opcode) {
            if (opcode == Opcodes.ARETURN) {
              super.visitMethodInsn(Opcodes.INVOKESTATIC, "org/apache/kafka/common/Node", "noNode", "()Lorg/apache/kafka/common/Node;", false);
              super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/util/Optional", "orElse", "(Ljava/lang/Object;)Ljava/lang/Object;", false);
              super.visitMethodInsn(Opcodes.INVOKESTATIC, "java/util/Optional", "of", "(Ljava/lang/Object;)Ljava/util/Optional;", false);
              patched[0]++;
            }
            super.visitInsn(opcode);
          }
        };
      }
    }, 0);
    if (patched[0] == 0) {
      System.out.println("not needed");
      return;
    }
    Path out = Path.of(args[1], CLASS + ".class");
    Files.createDirectories(out.getParent());
    Files.write(out, writer.toByteArray());
    System.out.println("patched");
  }
}
