// The artifact transport port, defined in model/artifacts.ts so the GitLab client can implement
// it without importing artifacts/.
export type { ArtifactTransport, ArtifactUpload, ArtifactUploadResult } from '../model/artifacts.js';
