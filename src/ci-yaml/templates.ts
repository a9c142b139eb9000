// GitLab's bundled CI templates (lib/gitlab/ci/templates of GitLab CE, MIT licence, kept in
// templates/gitlab/LICENSE) shipped with Tart for `include: template:`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, normalize } from 'node:path';

const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/gitlab/', import.meta.url));

/** The shipped file for a template name such as "Jobs/SAST.gitlab-ci.yml"; undefined if not shipped. */
export function templateFile(name: string): string | undefined {
  const relative = normalize(name).replace(/^\/+/, '');
  if (relative.startsWith('..')) return undefined;
  const path = join(TEMPLATES_DIR, relative);
  return existsSync(path) ? path : undefined;
}

/** Templates whose jobs need what only a GitLab instance and its clusters provide. */
export const UNRUNNABLE_TEMPLATES: Array<{ match: RegExp; reason: string }> = [
  {
    match: /^(Auto-DevOps|Beta\/Auto-DevOps|Jobs\/Deploy|Jobs\/DAST-Default-Branch-Deploy)/,
    reason: 'Auto DevOps deploys to a Kubernetes cluster that GitLab manages',
  },
  {
    match: /^Managed-Cluster-Applications/,
    reason: 'it installs applications into a GitLab-managed cluster',
  },
  {
    match: /^(5-Minute-Production-App|AWS\/|Jobs\/CF-Provision)/,
    reason: 'it provisions cloud resources through GitLab',
  },
  {
    match: /^Security\/(DAST-On-Demand-|DAST-Runner-Validation)/,
    reason: 'GitLab starts on-demand DAST scans itself, from the site and scanner profiles it stores',
  },
  {
    match: /^Security\/Cluster-Image-Scanning/,
    reason: 'it scans the images running in a Kubernetes cluster connected to GitLab',
  },
];
