// Which tag Renovate's versioning picks as the update of `current`, as its lookup filters them:
// valid, compatible with the current value (same Docker suffix), stable, and greater.
// Usage: node renovate_versions.mjs <renovate/dist/modules/versioning/index.js> <scheme> <current> <tag>...
const [modulePath, scheme, current, ...tags] = process.argv.slice(2);
const { get } = await import(modulePath);
const versioning = get(scheme);
const candidates = tags.filter(
  (tag) =>
    versioning.isValid(tag) &&
    versioning.isCompatible(tag, current) &&
    versioning.isStable(tag) &&
    versioning.isGreaterThan(tag, current),
);
const best = candidates.reduce((a, b) => (a === null || versioning.isGreaterThan(b, a) ? b : a), null);
process.stdout.write(JSON.stringify({ valid: versioning.isValid(current), best }) + "\n");
