  // Added by Vortex (build.mjs puts this into SES's tameErrorConstructor, where SharedError, the
  // `Error` of every compartment, is made and not yet frozen): Error.captureStackTrace, which SES
  // adds only where the engine has one (V8), and which SpiderMonkey has not. Workers code calls
  // it unguarded (drizzle-orm's DrizzleQueryError, on every failed query): without it, the
  // error a query meant to throw became "Error.captureStackTrace is not a function".
  // As V8's, it gives `object` a `stack`: its `name: message`, then the caller's frames, from
  // below the topmost call of `constructorOpt` when that is found. The frames are the engine's,
  // read through `stack`, so in the format and with only the frames of the run that Vortex's
  // getter gives (harness/stacks.js). It keeps no state and hands back nothing but that string.
  if (platform !== 'v8') {
    const frameOf = (line, name) =>
      line.startsWith(`    at ${name} (`) ||
      line.startsWith(`    at new ${name} (`) ||
      line.startsWith(`    at async ${name} (`) ||
      line.includes(`.${name} (`);
    const { captureStackTrace } = {
      captureStackTrace(object, constructorOpt) {
        if (object === null || (typeof object !== 'object' && typeof object !== 'function')) {
          throw TypeError('Error.captureStackTrace: the first argument must be an object');
        }
        let frames = `${new FERAL_ERROR().stack}`.split('\n').slice(1);
        const name = typeof constructorOpt === 'function' ? constructorOpt.name : '';
        if (name) {
          const at = frames.findIndex((line) => frameOf(line, name));
          if (at >= 0) frames = frames.slice(at + 1);
        }
        const kind = object.name === undefined ? 'Error' : `${object.name}`;
        const message = object.message === undefined ? '' : `${object.message}`;
        const head = kind === '' ? message : message === '' ? kind : `${kind}: ${message}`;
        defineProperty(object, 'stack', {
          value: [head, ...frames].join('\n'),
          writable: true,
          enumerable: false,
          configurable: true,
        });
      },
    };
    defineProperties(SharedError, {
      captureStackTrace: {
        value: captureStackTrace,
        writable: false,
        enumerable: false,
        configurable: true,
      },
    });
  }

