// Random bytes for keys made by generateKey: the operating system's, through the host.
let source = () => {
  throw new Error('no random source');
};

export function setRandomSource(random) {
  source = random;
}

export function randomBytes(n) {
  return source(n);
}
