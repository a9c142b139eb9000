// The shared cache a runner's jobs use besides the local store (`[runners.cache]`), as data.

/** `[runners.cache]` with `Type = "s3"`, resolved from config.toml by the daemon. */
export interface SharedCacheSettings {
  type: 's3';
  /** Prefix of every object name inside the bucket. */
  path?: string;
  /** Object names without `runner/<short token>/`: every runner sees the same caches. */
  shared: boolean;
  /** Bytes; 0 = no limit. A bigger archive is kept only locally. */
  maxUploadedArchiveSize: number;
  s3: S3Settings;
}

/** `[runners.cache.s3]`. */
export interface S3Settings {
  /** `host[:port]`, without a scheme; absent = AWS. */
  serverAddress?: string;
  bucketName: string;
  /** The region; absent = us-east-1 (as gitlab-runner). */
  bucketLocation?: string;
  /** http instead of https. */
  insecure: boolean;
  /** `iam` = the AWS SDK's default credential chain. */
  authenticationType: 'access-key' | 'iam';
  accessKey?: string;
  /** Never logged. */
  secretKey?: string;
  /** Never logged. */
  sessionToken?: string;
  /** `S3`/`AES256`, `KMS`/`aws:kms`, `DSSE-KMS`/`aws:kms:dsse`; absent = none. */
  serverSideEncryption?: string;
  serverSideEncryptionKeyId?: string;
  pathStyle?: boolean;
  dualStack?: boolean;
}
