// The one importer of the AWS SDK (@aws-sdk/client-s3): a client for one `[runners.cache.s3]`
// bucket, configured as gitlab-runner's cache/s3v2 configures aws-sdk-go-v2 (endpoint from
// ServerAddress and Insecure, path-style auto-detection, region us-east-1 by default, static keys
// or the default credential chain, server-side encryption on upload). Every call ends on its
// abort signal; the SDK's own retry handles transient failures. Errors come out as TartErrors
// whose messages carry no credentials.
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { TartError } from '../errors.js';
import { maskSecrets } from '../masking/secret-masker.js';
import type { S3Settings } from '../model/shared-cache.js';

/** An object as GetObject returns it: its body still to be read. */
export interface S3Object {
  body: Readable;
  lastModified?: Date;
  etag?: string;
}

/** What the shared cache store needs of a bucket (S3CacheClient; tests may pass another). */
export interface S3ObjectClient {
  /** The object's URL for the log: no query, no credentials. */
  objectUrl(name: string): string;
  /** The object, or undefined when the bucket has none under `name`. */
  get(name: string, signal?: AbortSignal): Promise<S3Object | undefined>;
  put(name: string, body: Readable, sizeBytes: number, signal?: AbortSignal): Promise<void>;
  /** The object's Last-Modified, or undefined when it does not exist. */
  lastModified(name: string, signal?: AbortSignal): Promise<Date | undefined>;
  close(): void;
}

// aws-sdk-go-v2 in gitlab-runner needs no custom endpoint for this address.
const DEFAULT_AWS_ENDPOINT = 'https://s3.amazonaws.com';
// A stalled server must not hold a job until its timeout.
const CONNECTION_TIMEOUT_MS = 10_000;
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

export class S3CacheClient implements S3ObjectClient {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly urlBase: string;
  private readonly encryption: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;
  private readonly secrets: string[];

  constructor(settings: S3Settings) {
    const endpoint = s3Endpoint(settings);
    const pathStyle =
      settings.pathStyle ?? (endpoint !== undefined && !virtualHostSupported(endpoint, settings.bucketName));
    const region = settings.bucketLocation || 'us-east-1';
    const dualStack = endpoint === undefined && (settings.dualStack ?? true);
    const config: S3ClientConfig = {
      region,
      forcePathStyle: pathStyle,
      ...(endpoint === undefined ? { useDualstackEndpoint: dualStack } : { endpoint }),
      // S3-compatible servers (MinIO, Ceph, …) differ in their support of the newer checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: SOCKET_IDLE_TIMEOUT_MS },
    };
    if (settings.authenticationType === 'access-key') {
      config.credentials = {
        accessKeyId: settings.accessKey ?? '',
        secretAccessKey: settings.secretKey ?? '',
        ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
      };
    }
    this.client = new S3Client(config);
    this.bucket = settings.bucketName;
    this.urlBase = bucketUrl({ endpoint, pathStyle, bucket: settings.bucketName, region, dualStack });
    this.encryption = encryptionOf(settings);
    this.secrets = [settings.secretKey, settings.sessionToken].filter((value): value is string => !!value);
  }

  objectUrl(name: string): string {
    return `${this.urlBase}/${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  async get(name: string, signal?: AbortSignal): Promise<S3Object | undefined> {
    try {
      const response = await untilAborted(
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: name }), { abortSignal: signal }),
        signal,
      );
      return {
        body: response.Body as Readable,
        lastModified: response.LastModified,
        etag: response.ETag,
      };
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw this.failure('CACHE_S3_DOWNLOAD_FAILED', `downloading ${name}`, error);
    }
  }

  async put(name: string, body: Readable, sizeBytes: number, signal?: AbortSignal): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: name,
      Body: body,
      ContentLength: sizeBytes,
      ContentType: 'application/octet-stream',
      ...this.encryption,
    });
    try {
      await untilAborted(this.client.send(command, { abortSignal: signal }), signal);
    } catch (error) {
      body.destroy();
      throw this.failure('CACHE_S3_UPLOAD_FAILED', `uploading ${name}`, error);
    }
  }

  async lastModified(name: string, signal?: AbortSignal): Promise<Date | undefined> {
    try {
      const response = await untilAborted(
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: name }), { abortSignal: signal }),
        signal,
      );
      return response.LastModified;
    } catch (error) {
      if (errorName(error) === 'NotFound') return undefined;
      throw this.failure('CACHE_S3_DOWNLOAD_FAILED', `checking ${name}`, error);
    }
  }

  close(): void {
    this.client.destroy();
  }

  // A stable code and a message naming what failed and why, with no credential in it.
  private failure(code: string, action: string, error: unknown): TartError {
    const name = errorName(error);
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const errno = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message : String(error);
    const reason = [
      name !== undefined && name !== 'Error' ? name : errno,
      status !== undefined ? `(HTTP ${status})` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(' ');
    const text = `${action} in bucket ${this.bucket}: ${reason}${message && message !== name ? `: ${message}` : ''}`;
    return new TartError(code, maskSecrets(text, this.secrets), {
      details: { bucket: this.bucket, status, name: name ?? errno },
    });
  }
}

/** gitlab-runner's GetEndpoint: scheme from Insecure, canonical ports left out; undefined = AWS. */
export function s3Endpoint(settings: Pick<S3Settings, 'serverAddress' | 'insecure'>): string | undefined {
  if (!settings.serverAddress) return undefined;
  const scheme = settings.insecure ? 'http' : 'https';
  const match = /^(.*):(\d+)$/.exec(settings.serverAddress);
  const endpoint =
    match !== null && ((scheme === 'https' && match[2] === '443') || (scheme === 'http' && match[2] === '80'))
      ? `${scheme}://${match[1]}`
      : `${scheme}://${settings.serverAddress}`;
  return endpoint === DEFAULT_AWS_ENDPOINT ? undefined : endpoint;
}

/** minio-go's IsVirtualHostSupported, which gitlab-runner's path-style auto-detection uses. */
export function virtualHostSupported(endpoint: string, bucket: string): boolean {
  const url = new URL(endpoint);
  if (url.protocol === 'https:' && bucket.includes('.')) return false;
  const host = url.hostname;
  return (
    host === 's3.amazonaws.com' ||
    /\.amazonaws\.com(\.cn)?$/.test(host) ||
    host === 'storage.googleapis.com' ||
    host.endsWith('.aliyuncs.com')
  );
}

function bucketUrl(input: {
  endpoint?: string;
  pathStyle: boolean;
  bucket: string;
  region: string;
  dualStack: boolean;
}): string {
  const base =
    input.endpoint ?? `https://s3.${input.dualStack ? 'dualstack.' : ''}${input.region}.amazonaws.com`;
  if (input.pathStyle) return `${base}/${input.bucket}`;
  const url = new URL(base);
  url.hostname = `${input.bucket}.${url.hostname}`;
  return url.origin;
}

/** gitlab-runner's EncryptionType: S3/AES256, KMS/aws:kms, DSSE-KMS/aws:kms:dsse; else none. */
function encryptionOf(
  settings: S3Settings,
): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  const keyId = settings.serverSideEncryptionKeyId ? { SSEKMSKeyId: settings.serverSideEncryptionKeyId } : {};
  switch (settings.serverSideEncryption?.toUpperCase()) {
    case 'S3':
    case 'AES256':
      return { ServerSideEncryption: 'AES256' };
    case 'KMS':
    case 'AWS:KMS':
      return { ServerSideEncryption: 'aws:kms', ...keyId };
    case 'DSSE-KMS':
    case 'AWS:KMS:DSSE':
      return { ServerSideEncryption: 'aws:kms:dsse', ...keyId };
    default:
      return {};
  }
}

// The SDK aborts its request on the signal; racing it also ends a wait between retries at once.
async function untilAborted<T>(sent: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return sent;
  sent.catch(() => undefined);
  let stop = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  try {
    return await Promise.race([sent, aborted]);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
