// A throw-away private CA and a server certificate for 127.0.0.1 it signed (openssl), for HTTPS tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateCa {
  dir: string;
  /** The CA certificate: what `tls-ca-file` points at. */
  caFile: string;
  serverKey: string;
  serverCert: string;
  cleanup: () => void;
}

export function createPrivateCa(): PrivateCa {
  const dir = mkdtempSync(join(tmpdir(), 'tart-ca-'));
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-days',
    '1',
    '-subj',
    '/CN=Tart Test Private CA',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl([
    'req',
    ...ec,
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
  ]);
  writeFileSync(path('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl([
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    path('ext.cnf'),
    '-out',
    path('server.pem'),
  ]);
  return {
    dir,
    caFile: path('ca.pem'),
    serverKey: readFileSync(path('server.key'), 'utf8'),
    serverCert: readFileSync(path('server.pem'), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
