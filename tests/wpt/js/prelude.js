// Ours, not WPT's. What WPT's server gives a test running in a worker, set up for one unit
// (WPT_UNIT is written before this by compose.py): `GLOBAL`, a `location` whose query is the
// variant's, and fetch() of the data files the test reads, embedded from the vendored copy.
globalThis.GLOBAL = {
  isWindow: () => false,
  isWorker: () => false,
  isShadowRealm: () => false,
};
globalThis.location = {
  href: WPT_UNIT.href,
  origin: "http://web-platform.test",
  pathname: WPT_UNIT.pathname,
  search: WPT_UNIT.search,
};
if (Object.keys(WPT_UNIT.data).length > 0) {
  const platformFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    if (Object.hasOwn(WPT_UNIT.data, url)) {
      return new Response(WPT_UNIT.data[url], {
        headers: { "content-type": "application/json" },
      });
    }
    return platformFetch(url, init);
  };
}
