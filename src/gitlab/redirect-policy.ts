// Where a redirected request may take its credentials: only to the origin (scheme, host and
// port) of the configured GitLab `url`. gitlab-runner re-sends an artifact upload with its
// JOB-TOKEN to whatever host a 307 names; Tart follows such a redirect only when it stays on
// GitLab's own origin, and says so when it does not. Downloads redirected to object storage
// are followed without the token (a pre-signed URL carries its own authorisation).
import { apiBaseUrl } from './api-url.js';

/** True when `url` is on the configured GitLab's origin, so tokens and the GitLab CA may go there. */
export function credentialsMayGo(url: URL, configuredUrl: string): boolean {
  return url.origin === apiBaseUrl(configuredUrl).origin;
}

/** The failure text for a redirect that would take a credential elsewhere. */
export function redirectRefusedMessage(status: number, location: URL, configuredUrl: string): string {
  return (
    `GitLab answered ${status} redirecting to ${location.origin}, another origin than ` +
    `${apiBaseUrl(configuredUrl).origin}; the job token is never sent there. ` +
    'If GitLab moved, update the runner\'s url'
  );
}
