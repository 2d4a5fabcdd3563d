import { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * The project's S3 client: path-style when an endpoint is given (Massive, S3-compatible servers).
 * Node 20 is supported on purpose, so the SDK's "Node 22 will be required" notice is switched off.
 */
export function createS3Client(options: { endpoint?: string; region: string; credentials?: S3ClientConfig['credentials'] }): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: options.endpoint || undefined,
    region: options.region,
    forcePathStyle: Boolean(options.endpoint),
    credentials: options.credentials,
    maxAttempts: 5,
  });
}
