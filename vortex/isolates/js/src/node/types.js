// util.types by the values' internal tags, which a Proxy or a Symbol.toStringTag can fake less
// easily than instanceof, and which hold for every compartment's intrinsics.
const tagOf = (value) => Object.prototype.toString.call(value).slice(8, -1);
const TypedArray = Object.getPrototypeOf(Uint8Array);
const typedTag = Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get;
const isObject = (value) => value !== null && (typeof value === 'object' || typeof value === 'function');

function hasSlot(method, value) {
  try {
    method.call(value);
    return true;
  } catch {
    return false;
  }
}

function typedArrayOf(name) {
  return (value) => typedTag.call(value) === name;
}

const AsyncFunction = (async () => {}).constructor;
const GeneratorFunction = function* () {}.constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;
const dateValue = Date.prototype.getTime;
const regexpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size').get;
const bufferLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;

export const types = {
  isPromise: (value) => isObject(value) && value instanceof Promise,
  isDate: (value) => isObject(value) && hasSlot(dateValue, value),
  isRegExp: (value) => isObject(value) && value !== RegExp.prototype && hasSlot(regexpSource, value),
  isMap: (value) => isObject(value) && hasSlot(mapSize, value),
  isSet: (value) => isObject(value) && hasSlot(setSize, value),
  isWeakMap: (value) => isObject(value) && hasSlot(function () { WeakMap.prototype.has.call(this, {}); }, value),
  isWeakSet: (value) => isObject(value) && hasSlot(function () { WeakSet.prototype.has.call(this, {}); }, value),
  isArrayBuffer: (value) => isObject(value) && hasSlot(bufferLength, value),
  isAnyArrayBuffer: (value) => isObject(value) && hasSlot(bufferLength, value),
  isSharedArrayBuffer: () => false,
  isArrayBufferView: (value) => ArrayBuffer.isView(value),
  isDataView: (value) => ArrayBuffer.isView(value) && typedTag.call(value) === undefined,
  isTypedArray: (value) => typedTag.call(value) !== undefined,
  isUint8Array: typedArrayOf('Uint8Array'),
  isUint8ClampedArray: typedArrayOf('Uint8ClampedArray'),
  isUint16Array: typedArrayOf('Uint16Array'),
  isUint32Array: typedArrayOf('Uint32Array'),
  isInt8Array: typedArrayOf('Int8Array'),
  isInt16Array: typedArrayOf('Int16Array'),
  isInt32Array: typedArrayOf('Int32Array'),
  isFloat32Array: typedArrayOf('Float32Array'),
  isFloat64Array: typedArrayOf('Float64Array'),
  isBigInt64Array: typedArrayOf('BigInt64Array'),
  isBigUint64Array: typedArrayOf('BigUint64Array'),
  isNativeError: (value) => isObject(value) && tagOf(value) === 'Error' && value instanceof Error,
  isAsyncFunction: (value) => value instanceof AsyncFunction || value instanceof AsyncGeneratorFunction,
  isGeneratorFunction: (value) => value instanceof GeneratorFunction || value instanceof AsyncGeneratorFunction,
  isGeneratorObject: (value) => isObject(value) && tagOf(value) === 'Generator',
  isMapIterator: (value) => isObject(value) && tagOf(value) === 'Map Iterator',
  isSetIterator: (value) => isObject(value) && tagOf(value) === 'Set Iterator',
  isBoxedPrimitive: (value) => isObject(value) && ['Number', 'String', 'Boolean', 'BigInt', 'Symbol'].includes(tagOf(value)) && typeof value.valueOf() !== 'object',
  isProxy: () => false,
  isExternal: () => false,
  isModuleNamespaceObject: () => false,
};
