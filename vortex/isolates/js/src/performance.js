// `performance` (High Resolution Time) with User Timing's marks and measures, and the entry
// classes, as workerd has them since its global performance classes: PerformanceEntry,
// PerformanceMark, PerformanceMeasure. Each run's marks and measures are its own: the harness
// gives every Performance a clock whose `entries()` is the current run's buffer, and whose
// `now()` is the run's own time, which is what a mark's startTime is measured in.
// No PerformanceObserver, no resource timing: a Worker has no loading to time.
import { structuredClone } from './clone.js';
import { DOMException } from './domexception.js';
import { EventTarget } from './events.js';
import { hooks } from './hooks.js';
import { defineToStringTag } from './util.js';

const CONSTRUCT = Symbol('construct');

export class PerformanceEntry {
  #name;
  #entryType;
  #startTime;
  #duration;

  constructor(key, name, entryType, startTime, duration) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#name = name;
    this.#entryType = entryType;
    this.#startTime = startTime;
    this.#duration = duration;
  }

  get name() { return this.#name; }
  get entryType() { return this.#entryType; }
  get startTime() { return this.#startTime; }
  get duration() { return this.#duration; }

  toJSON() {
    return { name: this.#name, entryType: this.#entryType, startTime: this.#startTime, duration: this.#duration };
  }
}
defineToStringTag(PerformanceEntry, 'PerformanceEntry');

function cloneDetail(detail) {
  return detail === undefined || detail === null ? null : structuredClone(detail);
}

export class PerformanceMark extends PerformanceEntry {
  #detail;

  constructor(markName, markOptions = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'PerformanceMark': 1 argument required, but only 0 present.");
    const name = String(markName);
    const options = markOptions == null ? {} : markOptions;
    let startTime;
    if (options.startTime === undefined) startTime = hooks.now();
    else {
      startTime = Number(options.startTime);
      if (!Number.isFinite(startTime)) throw new TypeError("Failed to construct 'PerformanceMark': The provided double value is non-finite.");
      if (startTime < 0) throw new TypeError("Failed to construct 'PerformanceMark': '" + name + "' cannot have a negative start time.");
    }
    const detail = cloneDetail(options.detail);
    super(CONSTRUCT, name, 'mark', startTime, 0);
    this.#detail = detail;
  }

  // Not in toJSON, which is PerformanceEntry's (WebIDL's default toJSON, as workerd's is).
  get detail() { return this.#detail; }
}
defineToStringTag(PerformanceMark, 'PerformanceMark');

export class PerformanceMeasure extends PerformanceEntry {
  #detail;

  constructor(key, name, startTime, duration, detail) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    super(CONSTRUCT, name, 'measure', startTime, duration);
    this.#detail = detail;
  }

  get detail() { return this.#detail; }
}
defineToStringTag(PerformanceMeasure, 'PerformanceMeasure');

function chronological(entries) {
  // A stable sort: entries of one startTime stay in the order they were made.
  return entries.slice().sort((a, b) => a.startTime - b.startTime);
}

export class Performance extends EventTarget {
  #clock;

  constructor(key, clock) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    super();
    this.#clock = clock;
  }

  get timeOrigin() { return this.#clock.timeOrigin(); }

  now() {
    return this.#clock.now();
  }

  toJSON() {
    return { timeOrigin: this.#clock.timeOrigin() };
  }

  mark(markName, markOptions = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'mark' on 'Performance': 1 argument required, but only 0 present.");
    const entries = this.#clock.entries();
    const entry = new PerformanceMark(markName, markOptions);
    entries.push(entry);
    return entry;
  }

  // User Timing's "convert a mark to a timestamp": the newest mark of that name, or a time.
  #timestamp(mark, entries) {
    if (typeof mark === 'string') {
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        if (entries[i].entryType === 'mark' && entries[i].name === mark) return entries[i].startTime;
      }
      throw new DOMException("Failed to execute 'measure' on 'Performance': The mark '" + mark + "' does not exist.", 'SyntaxError');
    }
    const time = Number(mark);
    if (time < 0) throw new TypeError("Failed to execute 'measure' on 'Performance': '" + time + "' cannot be negative.");
    return time;
  }

  measure(measureName, startOrMeasureOptions = undefined, endMark = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'measure' on 'Performance': 1 argument required, but only 0 present.");
    const name = String(measureName);
    const entries = this.#clock.entries();
    const given = startOrMeasureOptions;
    // A dictionary (any object) with one of its members is MeasureOptions; else a mark's name.
    const options =
      given !== null && typeof given === 'object' &&
      (given.start !== undefined || given.end !== undefined || given.duration !== undefined || given.detail !== undefined)
        ? given
        : null;
    if (options !== null) {
      if (endMark !== undefined) throw new TypeError("Failed to execute 'measure' on 'Performance': If a non-empty PerformanceMeasureOptions object was passed, |end_mark| must not be passed.");
      if (options.start === undefined && options.end === undefined) throw new TypeError("Failed to execute 'measure' on 'Performance': If a non-empty PerformanceMeasureOptions object was passed, at least one of its 'start' or 'end' properties must be present.");
      if (options.start !== undefined && options.duration !== undefined && options.end !== undefined) throw new TypeError("Failed to execute 'measure' on 'Performance': If a non-empty PerformanceMeasureOptions object was passed, it must not have all of its 'start', 'duration', and 'end' properties defined");
    }
    const stringOrUndefined = (value) => (value === undefined || typeof value === 'number' ? value : String(value));
    const duration = options !== null && options.duration !== undefined ? Number(options.duration) : undefined;
    let end;
    if (endMark !== undefined) end = this.#timestamp(stringOrUndefined(endMark), entries);
    else if (options !== null && options.end !== undefined) end = this.#timestamp(stringOrUndefined(options.end), entries);
    else if (options !== null && options.start !== undefined && duration !== undefined) {
      end = this.#timestamp(stringOrUndefined(options.start), entries) + duration;
    } else end = this.#clock.now();
    let start;
    if (options !== null && options.start !== undefined) start = this.#timestamp(stringOrUndefined(options.start), entries);
    else if (options !== null && duration !== undefined && options.end !== undefined) start = end - duration;
    else if (options === null && given !== undefined && given !== null && typeof given !== 'object') {
      start = this.#timestamp(stringOrUndefined(given), entries);
    } else start = 0;
    const detail = cloneDetail(options === null ? undefined : options.detail);
    const entry = new PerformanceMeasure(CONSTRUCT, name, start, end - start, detail);
    entries.push(entry);
    return entry;
  }

  #clear(type, name) {
    const entries = this.#clock.entries();
    const kept = entries.filter((e) => e.entryType !== type || (name !== undefined && e.name !== String(name)));
    entries.splice(0, entries.length, ...kept);
  }

  clearMarks(markName = undefined) {
    this.#clear('mark', markName);
  }

  clearMeasures(measureName = undefined) {
    this.#clear('measure', measureName);
  }

  getEntries() {
    return chronological(this.#clock.entries());
  }

  getEntriesByType(type) {
    const wanted = String(type);
    return chronological(this.#clock.entries().filter((e) => e.entryType === wanted));
  }

  getEntriesByName(name, type = undefined) {
    const wanted = String(name);
    const kind = type === undefined ? undefined : String(type);
    return chronological(this.#clock.entries().filter((e) => e.name === wanted && (kind === undefined || e.entryType === kind)));
  }
}
defineToStringTag(Performance, 'Performance');

// For the harness: a run's `performance`. `clock` is { now(), timeOrigin(), entries() }.
export function makePerformance(clock) {
  return new Performance(CONSTRUCT, clock);
}
