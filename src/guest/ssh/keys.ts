// Per-VM SSH keys, generated in-process and never written to a world-readable file or put on
// a command line: a client key the guest authorizes, and a host key the runner pins.
import ssh2 from 'ssh2';
import { TartError } from '../../errors.js';

export interface KeyPair {
  /** OpenSSH private key text. */
  privateKey: string;
  /** "ssh-ed25519 AAAA… comment" */
  publicKey: string;
}

export interface VmKeys {
  client: KeyPair;
  host: KeyPair;
}

/** Fresh ed25519 client and host key pairs for one VM. */
export function generateVmKeys(vmId: string): VmKeys {
  return { client: generate(`tart-runner@${vmId}`), host: generate(`tart-guest@${vmId}`) };
}

// ssh2 writes an ed25519 key whose public half starts with a zero byte as 31 bytes (it strips the
// zero as if the key were an integer): OpenSSH then refuses the key ("error in libcrypto"), so
// about one VM in 128 failed to boot (sshd without a host key) or to authorize. Such a pair is
// drawn again.
function generate(comment: string): KeyPair {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (ed25519KeyLength(pair.public) === 32) return { privateKey: pair.private, publicKey: pair.public };
  }
}

/** The length of the key in an "ssh-ed25519 AAAA…" line (32 for a well-formed key). */
export function ed25519KeyLength(publicKeyLine: string): number {
  const blob = Buffer.from(publicKeyLine.split(' ')[1] ?? '', 'base64');
  if (blob.length < 4) return -1;
  const typeLength = blob.readUInt32BE(0);
  const offset = 4 + typeLength;
  return blob.length >= offset + 4 ? blob.readUInt32BE(offset) : -1;
}

/** The SSH wire encoding of an OpenSSH public key line, for comparing with what the server offers. */
export function publicKeyBlob(publicKey: string): Buffer {
  const parsed = ssh2.utils.parseKey(publicKey);
  if (parsed instanceof Error) throw new TartError('SSH_KEY_INVALID', `invalid public key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new TartError('SSH_KEY_INVALID', 'invalid public key');
  return key.getPublicSSH();
}
