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

function generate(comment: string): KeyPair {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public };
}

/** The SSH wire encoding of an OpenSSH public key line, for comparing with what the server offers. */
export function publicKeyBlob(publicKey: string): Buffer {
  const parsed = ssh2.utils.parseKey(publicKey);
  if (parsed instanceof Error) throw new TartError('SSH_KEY_INVALID', `invalid public key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new TartError('SSH_KEY_INVALID', 'invalid public key');
  return key.getPublicSSH();
}
