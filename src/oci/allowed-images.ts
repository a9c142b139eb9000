// allowed_images and allowed_services: doublestar globs matched against the image string as written
// (gitlab-runner common/allowed_images.go; docker executor reference §2.4). `*` stops at `/`, `**` does not;
// patterns are OR-ed and `!` is no operator. An empty list allows everything.
import picomatch from 'picomatch';

export function isImageAllowed(image: string, patterns: readonly string[], alwaysAllowed: readonly string[] = []): boolean {
  if (patterns.length === 0 || alwaysAllowed.includes(image)) return true;
  return patterns.some((pattern) => picomatch.isMatch(image, pattern, { dot: true, nonegate: true, noextglob: true, nobrace: true }));
}

/** gitlab-runner's refusal text, one trace line each (its last line names allowed_images for both lists). */
export function disallowedImageLines(image: string, patterns: readonly string[], list: 'images' | 'services' = 'images'): string[] {
  return [
    '',
    `ERROR: The "${image}" image is not present on list of allowed ${list}:`,
    ...patterns.map((pattern) => `- ${pattern}`),
    '',
    "Please check runner's allowed_images configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration/",
  ];
}
