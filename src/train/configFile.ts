/**
 * Training configs as JSON files: `npm run train -- --config-file my.json` and the page's "Load config…"
 * read the same format, `--print-config` and "Save config" write it.
 *
 * A file holds any subset of TrainConfig's fields, nested as in TrainConfig, and is merged field by field
 * onto a preset: the one its "preset" (or "name") field names, else the one the caller gives. Every field
 * is checked for its type and range, and unknown keys are errors too (a misspelt key silently keeping the
 * preset's value would train something other than what the file says). All problems are reported at
 * once, each as `<file>: <path> = <value>: <what it must be>`.
 *
 * Pure (no Node or DOM imports): the command line and the page's worker both use it.
 */
import { visit } from 'jsonc-parser';
import {
  configProblems, isConfigName, kConfigs, type ConfigName, type DataConfig, type LocaliserConfig, type LossConfig, type ModelConfig,
  type OptimConfig, type TrainConfig,
} from './config';

/**
 * What one field accepts. Ranges that config.ts's configProblems already checks (for every config, not
 * only files) are left out here and reported from there, so each rule lives in one place.
 */
type Spec =
  | { kind: 'number'; integer?: boolean; min?: number; minOpen?: boolean; max?: number; maxOpen?: boolean }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  /** A string whose allowed values configProblems checks. */
  | { kind: 'string' }
  | { kind: 'vec3'; positive: boolean }
  | { kind: 'object'; fields: Record<string, Spec> };

// Mapped over the interfaces' keys: a field added to config.ts without a spec here fails to compile.
type Fields<T> = { [K in keyof T]-?: Spec };

const int = (min?: number, max?: number): Spec => ({ kind: 'number', integer: true, min, max });
const num = (min?: number, opts: { minOpen?: boolean; max?: number; maxOpen?: boolean } = {}): Spec => ({ kind: 'number', min, ...opts });

const kModel: Fields<ModelConfig> = {
  inputPx: int(), width: int(), depth: int(), blocks: int(),
  confidence: { kind: 'boolean' },
  maxChannels: int(1),
  heatmapStride: int(2, 4), // 2 or 4: configProblems says so
};

const kLocaliser: Fields<LocaliserConfig> = {
  model: { kind: 'object', fields: kModel },
  sigmaCells: num(),
  sizeWeight: num(0),
  batchSize: int(),
  minScore: num(0, { max: 1 }),
};

const kLoss: Fields<LossConfig> = {
  sigmaCells: num(),
  keypointWeight: num(0),
  betaMax: num(0),
  warmupSteps: int(0),
  betaRampSteps: int(0),
  posePoints: int(0),
  pnpInit: { kind: 'enum', values: ['epnp', 'gt'] satisfies LossConfig['pnpInit'][] },
  poseError: { kind: 'enum', values: ['reprojection', '3d'] satisfies LossConfig['poseError'][] },
};

const kOptim: Fields<OptimConfig> = {
  batchSize: int(),
  steps: int(),
  lr: num(),
  lrWarmupSteps: int(0),
  minLrFactor: num(0, { max: 1 }),
  clipNorm: num(0),
  emaDecay: num(0, { max: 1, maxOpen: true }),
  beta1: num(0, { max: 1, maxOpen: true }),
  beta2: num(0, { max: 1, maxOpen: true }),
  epsilon: num(0, { minOpen: true }),
};

const kData: Fields<DataConfig> = {
  padding: num(0),
  scaleJitter: num(),
  shiftJitter: num(),
  fineShare: num(),
  fineScaleJitter: num(),
  fineShiftJitter: num(),
  rotationDeg: num(),
  occlusionProb: num(),
  backgroundProb: num(),
  cropFrom: { kind: 'enum', values: ['mask', 'model'] satisfies DataConfig['cropFrom'][] },
  augment: { kind: 'boolean' },
  keypoints: int(),
  mean: { kind: 'vec3', positive: false },
  std: { kind: 'vec3', positive: true },
};

const kTrain: Fields<Omit<TrainConfig, 'name'>> = {
  // Seeds are hashed as unsigned 32-bit words (data/rng.ts).
  seed: int(0, 2 ** 32 - 1),
  model: { kind: 'object', fields: kModel },
  localiser: { kind: 'object', fields: kLocaliser },
  evalCrops: { kind: 'string' },
  loss: { kind: 'object', fields: kLoss },
  optim: { kind: 'object', fields: kOptim },
  data: { kind: 'object', fields: kData },
  evalEvery: int(0),
  evalMaxInstances: int(0),
  evalSamples: int(0),
  checkpointEvery: int(0),
};

const kPresetNames = Object.keys(kConfigs) as ConfigName[];

export interface ResolveOptions {
  /** Names the file in every message (the path as given, or the dropped file's name). */
  file?: string;
  /** The preset merged onto when the file names none ('default' if absent). */
  preset?: ConfigName;
}

export type ResolvedConfig =
  | { ok: true; config: TrainConfig; /** The preset the file was merged onto. */ preset: ConfigName; /** The file named it. */ presetFromFile: boolean }
  | { ok: false; errors: string[] };

/**
 * Parses and resolves a config file's text; text that is not JSON is one error naming the file, and a key
 * given twice in one object is an error naming its path (JSON.parse would keep the last silently, while
 * RFC 8259 leaves what a reader does with it open).
 */
export function resolveConfigText(text: string, opts: ResolveOptions = {}): ResolvedConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`${opts.file ?? 'config'}: not valid JSON (${e instanceof Error ? e.message : String(e)})`] };
  }
  const twice = duplicateKeys(text).map((path) => `${opts.file ?? 'config'}: ${path}: given more than once; give it once`);
  const resolved = resolveConfigJson(json, opts);
  if (twice.length === 0) return resolved;
  return { ok: false, errors: [...twice, ...(resolved.ok ? [] : resolved.errors)] };
}

/** The dotted paths of keys that occur more than once in the same object of a JSON text (each once). */
function duplicateKeys(text: string): string[] {
  const open: Set<string>[] = [];
  const found = new Set<string>();
  visit(text, {
    onObjectBegin: () => { open.push(new Set()); },
    onObjectEnd: () => { open.pop(); },
    onObjectProperty: (property, _offset, _length, _line, _character, pathSupplier) => {
      const keys = open[open.length - 1];
      if (keys.has(property)) found.add([...pathSupplier(), property].join('.'));
      keys.add(property);
    },
  });
  return [...found];
}

/** A partial config (parsed JSON) merged onto its preset, or every problem found in it. */
export function resolveConfigJson(json: unknown, opts: ResolveOptions = {}): ResolvedConfig {
  const file = opts.file ?? 'config';
  const errors: string[] = [];
  const reported = new Set<string>();
  const fail = (path: string, value: unknown, why: string) => {
    reported.add(path);
    errors.push(`${file}: ${path} = ${show(value)}: ${why}`);
  };
  if (!isPlainObject(json)) return { ok: false, errors: [`${file}: ${show(json)}: expected a JSON object holding training config fields`] };

  // "preset" names the base; "name" is TrainConfig's own field (a preset's name, or 'custom'), so that a
  // printed config names its base too and reads back as itself.
  const { preset: presetField, name: nameField, ...fields } = json;
  let preset = opts.preset ?? 'default';
  let presetFromFile = false;
  let name: TrainConfig['name'] | undefined;
  const presetList = kPresetNames.map((p) => `'${p}'`).join(', ');
  if (presetField !== undefined) {
    if (typeof presetField === 'string' && isConfigName(presetField)) { preset = presetField; presetFromFile = true; }
    else fail('preset', presetField, `expected one of ${presetList}`);
  }
  if (nameField !== undefined) {
    if (typeof nameField === 'string' && (isConfigName(nameField) || nameField === 'custom')) {
      name = nameField;
      if (isConfigName(nameField)) {
        if (presetFromFile && nameField !== preset) fail('name', nameField, `names another preset than "preset" ('${preset}'): give one of the two`);
        else if (!presetFromFile) { preset = nameField; presetFromFile = true; }
      }
    } else {
      fail('name', nameField, `expected one of ${presetList} or 'custom'`);
    }
  }

  const base = structuredClone(kConfigs[preset]);
  const merged = mergeObject(kTrain, fields, base as unknown as Record<string, unknown>, '', fail) as unknown as TrainConfig;
  merged.name = name ?? preset;
  // Fields of the wrong type kept the preset's values, so these checks see a well-typed config; a field
  // already reported is not reported twice.
  for (const p of configProblems(merged)) if (!reported.has(p.field)) fail(p.field, p.value, p.why);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: merged, preset, presetFromFile };
}

/** The JSON that --print-config and the page's "Save config" write; resolveConfigText reads it back as the same config. */
export function configText(c: TrainConfig): string {
  // The name first: it says which preset the rest departs from.
  const { name, ...rest } = c;
  return `${JSON.stringify({ name, ...rest }, null, 2)}\n`;
}

function mergeObject(
  fields: Record<string, Spec>, value: Record<string, unknown>, base: Record<string, unknown>, prefix: string,
  fail: (path: string, value: unknown, why: string) => void,
): Record<string, unknown> {
  const out = { ...base };
  for (const [key, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const spec = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!spec) {
      const known = Object.keys(fields);
      fail(path, v, `unknown key (${prefix ? `${prefix} has` : 'known keys:'} ${prefix ? known.join(', ') : ['preset', 'name', ...known].join(', ')})`);
      continue;
    }
    if (spec.kind === 'object') {
      if (!isPlainObject(v)) fail(path, v, `expected an object with any of ${Object.keys(spec.fields).join(', ')}`);
      else out[key] = mergeObject(spec.fields, v, base[key] as Record<string, unknown>, path, fail);
      continue;
    }
    const why = check(spec, v);
    if (why) fail(path, v, why);
    else out[key] = Array.isArray(v) ? v.slice() : v;
  }
  return out;
}

/** Undefined when v fits spec, else what the field must be. */
function check(spec: Exclude<Spec, { kind: 'object' }>, v: unknown): string | undefined {
  switch (spec.kind) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'expected true or false';
    case 'string':
      return typeof v === 'string' ? undefined : 'expected a string';
    case 'enum':
      return typeof v === 'string' && spec.values.includes(v) ? undefined : `expected one of ${spec.values.map((x) => `'${x}'`).join(', ')}`;
    case 'vec3': {
      const ok = Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!spec.positive || x > 0));
      return ok ? undefined : `expected an array of 3 ${spec.positive ? 'numbers > 0' : 'numbers'}`;
    }
    case 'number': {
      const ok = typeof v === 'number' && Number.isFinite(v) && (!spec.integer || Number.isInteger(v)) &&
        (spec.min === undefined || (spec.minOpen ? v > spec.min : v >= spec.min)) &&
        (spec.max === undefined || (spec.maxOpen ? v < spec.max : v <= spec.max));
      return ok ? undefined : `expected ${describe(spec)}`;
    }
  }
}

function describe(s: Extract<Spec, { kind: 'number' }>): string {
  const what = s.integer ? 'an integer' : 'a number';
  if (s.min !== undefined && s.max !== undefined) {
    if (s.integer) return `${what} in ${s.min}..${s.max}`;
    return `${what} in ${s.minOpen ? '(' : '['}${s.min}, ${s.max}${s.maxOpen ? ')' : ']'}`;
  }
  if (s.min !== undefined) return `${what} ${s.minOpen ? '>' : '>='} ${s.min}`;
  if (s.max !== undefined) return `${what} ${s.maxOpen ? '<' : '<='} ${s.max}`;
  return what;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as it appears in the file, shortened so that a misplaced section does not flood the message. */
function show(v: unknown): string {
  // JSON.parse reads 1e999 as Infinity, which JSON.stringify would print as null.
  const s = v === undefined ? 'undefined' : typeof v === 'number' && !Number.isFinite(v) ? `${v} (beyond a double)` : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
