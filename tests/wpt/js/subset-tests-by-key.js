// Ours, standing in for WPT's /common/subset-tests-by-key.js: a variant `?include=K` runs the
// subtests whose key matches K, `?exclude=K` those whose key does not (K a regular expression
// matched against the whole key, as `?exclude=(file|javascript|mailto)` is written).
(() => {
  const patterns = (name) =>
    [...location.search.matchAll(new RegExp(`[?&]${name}=([^&]*)`, "g"))].map(
      (m) => new RegExp(`^(?:${decodeURIComponent(m[1])})$`),
    );
  const include = patterns("include");
  const exclude = patterns("exclude");
  self.shouldRunSubTest = (key) =>
    (include.length === 0 || include.some((re) => re.test(key))) &&
    !exclude.some((re) => re.test(key));
  self.subsetTestByKey = (key, testFunc, ...args) =>
    self.shouldRunSubTest(key) ? testFunc(...args) : null;
})();
