package optflow.stack;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Binds every Jetty connector of S3Mock to one host (system property optflow.bind, default 127.0.0.1).
 * S3Mock adds its plain-HTTP connector without a host, so it listens on all interfaces and no property
 * can change that; this initializer (named by context.initializer.classes) sets the host last.
 */
public class LoopbackConnectors implements ApplicationContextInitializer<ConfigurableApplicationContext> {
  @Override
  public void initialize(ConfigurableApplicationContext context) {
    String host = System.getProperty("optflow.bind", "127.0.0.1");
    context.getBeanFactory().addBeanPostProcessor(new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String name) {
        if (bean instanceof JettyServletWebServerFactory factory) {
          factory.addServerCustomizers(server -> {
            for (Connector connector : server.getConnectors()) {
              if (connector instanceof ServerConnector sc) sc.setHost(host);
            }
          });
        }
        return bean;
      }
    });
  }
}
