// Reads a study in Katib's Experiment format (YAML or JSON), applies Katib's defaults and
// validates it. Every rejection is a SpecError naming the field path and the reason.
import { LineCounter, parseDocument } from 'yaml';
import { MAX_YAML_NESTING, yamlNesting } from './yaml-depth.js';
import { excerpt } from '../model/limits.js';
import { LIMITS } from '../model/limits.js';
import { overwrittenParameters, validateAlgorithm, validateEarlyStopping } from './algorithm.js';
import { validateMetricsFormat } from '../metrics/parse.js';
import { readConstraints } from './constraints.js';
import { SpecError } from './errors.js';
import { isNamespaceName, NAMESPACE_NAME_RULE } from './kube-names.js';
import { readObjectives } from './objectives.js';
import { checkObjectMeta } from './object-meta.js';
import { readParameters } from './parameters.js';
import { readAssignment } from './assignment.js';
import type { Assignment } from '../../suggestion-algorithms/model.js';
import * as read from './read.js';
import { parseMetaReference, placeholdersIn } from './template.js';
import { readConfigMapReference, type ConfigMapReference, type ConfigMapTemplate } from './template-source.js';
import {
  DEFAULT_METRICS_FORMAT,
  type AlgorithmSpec,
  type MetricStrategy,
  DEFAULT_METRICS_FILE,
  DEFAULT_TFEVENT_DIR,
  type MetricsCollectorSpec,
  type ObjectiveSpec,
  type ParameterSpec,
  type StudySpec,
  type TrialTemplateSpec,
  type WarmStartSpec,
} from './types.js';

// Katib's name rule (#2468): the name becomes part of Kubernetes object names.
const NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 40;
// Katib requires a name; Sibyl defaults to its best general-purpose algorithm.
const DEFAULT_ALGORITHM = 'bayesianoptimization';

/** Parses YAML or JSON text (JSON is YAML) into a validated StudySpec. */
export function parseStudyText(text: string, options: ParseOptions = {}): StudySpec {
  return parseStudyDocument(readStudyDocument(text), options);
}

/** YAML or JSON text as a plain document, unchecked; bad YAML is a SpecError with its position. */
export function readStudyDocument(text: string): unknown {
  // With prettyErrors off, yaml leaves error.linePos unset: the LineCounter supplies the position.
  const lineCounter = new LineCounter();
  if (text.length > LIMITS.maxBodyBytes) throw new SpecError('', `the study text must be at most ${LIMITS.maxBodyBytes} characters (got ${text.length})`);
  if (yamlNesting(text) > MAX_YAML_NESTING) throw new SpecError('', `the YAML is nested too deeply (at most ${LIMITS.maxDocumentDepth} levels)`);
  let document: unknown;
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
    const error = doc.errors[0];
    if (error) {
      if (/call stack/i.test(error.message)) throw new SpecError('', `the YAML is nested too deeply (at most ${LIMITS.maxDocumentDepth} levels)`);
      const at = lineCounter.linePos(error.pos[0]);
      const where = ` at line ${at.line}, column ${at.col}`;
      throw new SpecError('', `not valid YAML or JSON${where}: ${excerpt(error.message.split('\n')[0] ?? '', 200)}`);
    }
    document = doc.toJS({ maxAliasCount: LIMITS.maxYamlAliases });
  } catch (err) {
    if (err instanceof SpecError) throw err;
    // yaml refuses alias bombs with a ReferenceError; a text nested a million levels deep overflows its parser.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) throw new SpecError('', `the YAML uses aliases too often (at most ${LIMITS.maxYamlAliases} expansions)`);
    if (err instanceof RangeError) throw new SpecError('', `the YAML is nested too deeply (at most ${LIMITS.maxDocumentDepth} levels)`);
    throw err;
  }
  return document;
}

export interface ParseOptions {
  /** The trial object read from `spec.trialTemplate.configMap` (template-source.ts), when it has one. */
  readonly configMapTemplate?: ConfigMapTemplate;
}

export function parseStudyDocument(input: unknown, options: ParseOptions = {}): StudySpec {
  if (input === undefined || input === null) throw new SpecError('', 'the study is empty (expected a Katib Experiment)');
  read.checkDepth(input, '');
  const doc = read.object(input, '');
  read.noUnknownKeys(doc, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  // sibyl.dev/v1beta1: the same kind in Sibyl's own group, for clusters where Katib runs.
  if (doc['apiVersion'] !== undefined && doc['apiVersion'] !== 'kubeflow.org/v1beta1' && doc['apiVersion'] !== 'sibyl.dev/v1beta1') {
    throw new SpecError('apiVersion', `must be kubeflow.org/v1beta1 (got ${read.describe(doc['apiVersion'])}; sibyl.dev/v1beta1 is the same kind in Sibyl's own group)`);
  }
  if (doc['kind'] !== undefined && doc['kind'] !== 'Experiment') {
    throw new SpecError('kind', `must be Experiment (got ${read.describe(doc['kind'])})`);
  }
  const metadata = read.object(doc['metadata'], 'metadata');
  const name = read.string(metadata['name'], 'metadata.name');
  if (name.length > MAX_NAME_LENGTH) throw new SpecError('metadata.name', `must be at most ${MAX_NAME_LENGTH} characters (got ${name.length})`);
  if (!NAME_PATTERN.test(name)) {
    throw new SpecError('metadata.name', `must be lower-case letters, digits and '-', starting with a letter and not ending with '-' (got ${read.describe(name)})`);
  }
  const namespace = read.optionalString(metadata['namespace'], 'metadata.namespace', 63) ?? 'default';
  if (!isNamespaceName(namespace)) throw new SpecError('metadata.namespace', `must be a Kubernetes namespace name: ${NAMESPACE_NAME_RULE} (got ${read.describe(namespace)})`);

  const s = read.object(doc['spec'], 'spec');
  // A Katib field Sibyl leaves out on purpose: named as such, not as an unknown field.
  if (s['nasConfig'] !== undefined) {
    throw new SpecError('spec.nasConfig', "neural architecture search (Katib's nasConfig, with its enas and darts algorithms) is not supported by Sibyl: it tunes spec.parameters only");
  }
  read.noUnknownKeys(s, 'spec', [
    'parameters', 'objective', 'algorithm', 'earlyStopping', 'parallelTrialCount', 'maxTrialCount',
    'maxFailedTrialCount', 'trialTemplate', 'metricsCollectorSpec', 'resumePolicy', 'enqueuedTrials', 'warmStart',
  ]);
  if (s['resumePolicy'] !== undefined) read.oneOf(s['resumePolicy'], 'spec.resumePolicy', ['Never', 'LongRunning', 'FromVolume']);

  // The algorithm first: a parameter it assigns itself may have a one-point range.
  const algorithm = readAlgorithm(s['algorithm'], 'spec.algorithm');
  const earlyStopping = s['earlyStopping'] === undefined || s['earlyStopping'] === null ? undefined : readAlgorithm(s['earlyStopping'], 'spec.earlyStopping', true);
  const parameters = readParameters(s['parameters'], 'spec.parameters', overwrittenParameters(algorithm));
  const objective = readObjective(s['objective'], 'spec.objective');
  const { parallelTrialCount, maxTrialCount, maxFailedTrialCount } = readBudgets(s);
  // Ask/tell studies need no template: their clients run the trials.
  const trialTemplate = s['trialTemplate'] === undefined || s['trialTemplate'] === null
    ? { trialParameters: [], retain: false }
    : readTrialTemplate(s['trialTemplate'], 'spec.trialTemplate', parameters, options.configMapTemplate);
  const metricsCollector = readMetricsCollector(s['metricsCollectorSpec'], 'spec.metricsCollectorSpec');
  const enqueuedTrials = s['enqueuedTrials'] === undefined || s['enqueuedTrials'] === null ? undefined : readEnqueuedTrials(s['enqueuedTrials'], 'spec.enqueuedTrials', parameters, maxTrialCount);
  const warmStart = s['warmStart'] === undefined || s['warmStart'] === null ? undefined : readWarmStart(s['warmStart'], 'spec.warmStart', name);
  // Prior observations carry one objective value, which no multi-objective algorithm can place
  // on a front: refused rather than silently unused.
  if (warmStart && objective.objectives) throw new SpecError('spec.warmStart', 'a multi-objective study (objective.objectives) cannot be warm-started: prior observations carry one objective value');

  const spec: StudySpec = {
    name,
    namespace,
    parameters,
    objective,
    algorithm,
    ...(earlyStopping === undefined ? {} : { earlyStopping }),
    parallelTrialCount,
    ...(maxTrialCount === undefined ? {} : { maxTrialCount }),
    ...(maxFailedTrialCount === undefined ? {} : { maxFailedTrialCount }),
    trialTemplate,
    metricsCollector,
    ...(enqueuedTrials === undefined ? {} : { enqueuedTrials }),
    ...(warmStart === undefined ? {} : { warmStart }),
  };
  validateAlgorithm(spec);
  validateEarlyStopping(spec);
  return spec;
}

/** `spec.enqueuedTrials`: assignments in the space, run first and counted in maxTrialCount. */
function readEnqueuedTrials(v: unknown, path: string, parameters: readonly ParameterSpec[], maxTrialCount: number | undefined): Assignment[] {
  const items = read.list(v, path, LIMITS.maxEnqueuedTrials);
  if (maxTrialCount !== undefined && items.length > maxTrialCount) {
    throw new SpecError(path, `must not list more assignments than maxTrialCount (got ${items.length} > ${maxTrialCount})`);
  }
  return items.map((x, i) => readAssignment(x, `${path}[${i}]`, parameters));
}

/** `spec.warmStart`: the prior study is looked up when the study is created (the service). */
function readWarmStart(v: unknown, path: string, name: string): WarmStartSpec {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, ['study']);
  const study = read.string(o['study'], `${path}.study`, MAX_NAME_LENGTH);
  if (study === name) throw new SpecError(`${path}.study`, 'must name another study (a study cannot warm-start from itself)');
  return { study };
}

function readObjective(v: unknown, path: string): ObjectiveSpec {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, ['type', 'goal', 'objectiveMetricName', 'additionalMetricNames', 'metricStrategies', 'objectives', 'constraints']);
  const objectives = readObjectives(o, path);
  const type = objectives ? objectives[0]!.type : read.oneOf(o['type'], `${path}.type`, ['minimize', 'maximize'] as const);
  const objectiveMetricName = objectives ? objectives[0]!.objectiveMetricName : read.identifier(o['objectiveMetricName'], `${path}.objectiveMetricName`);
  const objectiveMetrics = objectives ? objectives.map((x) => x.objectiveMetricName) : [objectiveMetricName];
  const goal = read.optionalNumber(o['goal'], `${path}.goal`);
  const additional = o['additionalMetricNames'] === undefined ? [] : read.list(o['additionalMetricNames'], `${path}.additionalMetricNames`);
  const additionalMetricNames = additional.map((x, i) => {
    const p = `${path}.additionalMetricNames[${i}]`;
    const n = read.identifier(x, p);
    if (objectiveMetrics.includes(n)) throw new SpecError(p, `must not repeat the objective metric "${n}"`);
    if (additional.indexOf(x) !== i) throw new SpecError(p, `duplicate metric name "${n}"`);
    return n;
  });
  const metricNames = [...objectiveMetrics, ...additionalMetricNames];
  // Katib's default: every metric takes the objective's direction (each objective its own).
  const fallback = (n: string): MetricStrategy =>
    (objectives?.find((x) => x.objectiveMetricName === n)?.type ?? type) === 'minimize' ? 'min' : 'max';
  const given = new Map<string, MetricStrategy>();
  const strategies = o['metricStrategies'] === undefined ? [] : read.list(o['metricStrategies'], `${path}.metricStrategies`);
  strategies.forEach((x, i) => {
    const p = `${path}.metricStrategies[${i}]`;
    const so = read.object(x, p);
    read.noUnknownKeys(so, p, ['name', 'value']);
    const n = read.identifier(so['name'], `${p}.name`);
    if (!metricNames.includes(n)) throw new SpecError(`${p}.name`, `names no metric of this study (metrics: ${metricNames.join(', ')})`);
    if (given.has(n)) throw new SpecError(`${p}.name`, `duplicate strategy for "${n}"`);
    given.set(n, read.oneOf(so['value'], `${p}.value`, ['min', 'max', 'latest'] as const));
  });
  const constraints = readConstraints(o['constraints'], `${path}.constraints`, objectiveMetrics, additionalMetricNames);
  return {
    type,
    objectiveMetricName,
    ...(goal === undefined ? {} : { goal }),
    ...(objectives ? { objectives } : {}),
    additionalMetricNames,
    metricStrategies: metricNames.map((n) => ({ name: n, value: given.get(n) ?? fallback(n) })),
    ...(constraints ? { constraints } : {}),
  };
}

/** `algorithm` (its name defaults) or `earlyStopping` (its name is required): the same shape. */
function readAlgorithm(v: unknown, path: string, nameRequired = false): AlgorithmSpec {
  const o = nameRequired ? read.object(v, path) : read.optionalObject(v, path);
  if (!o) return { algorithmName: DEFAULT_ALGORITHM, algorithmSettings: [] };
  read.noUnknownKeys(o, path, ['algorithmName', 'algorithmSettings']);
  const algorithmName = read.identifier(o['algorithmName'], `${path}.algorithmName`);
  const raw = o['algorithmSettings'] === undefined || o['algorithmSettings'] === null ? [] : read.list(o['algorithmSettings'], `${path}.algorithmSettings`);
  const seen = new Set<string>();
  const algorithmSettings = raw.map((x, i) => {
    const p = `${path}.algorithmSettings[${i}]`;
    const so = read.object(x, p);
    read.noUnknownKeys(so, p, ['name', 'value']);
    const name = read.identifier(so['name'], `${p}.name`);
    if (seen.has(name)) throw new SpecError(`${p}.name`, `duplicate setting "${name}"`);
    seen.add(name);
    const value = so['value'];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new SpecError(`${p}.value`, `must be a string (got ${read.describe(value)})`);
    }
    if (String(value).length > LIMITS.maxIdentifierLength) throw new SpecError(`${p}.value`, `must be at most ${LIMITS.maxIdentifierLength} characters (got ${String(value).length})`);
    return { name, value: String(value) };
  });
  return { algorithmName, algorithmSettings };
}

/** Reads and checks the three budgets Katib lets users edit (also used for budget updates). */
export function readBudgets(s: read.Doc) {
  const maxTrialCount = read.optionalInteger(s['maxTrialCount'], 'spec.maxTrialCount', 1, LIMITS.maxTrialCount);
  // Katib's default of 3, but never above a smaller trial budget the user did set.
  const parallelTrialCount = read.optionalInteger(s['parallelTrialCount'], 'spec.parallelTrialCount', 1, LIMITS.maxParallelTrialCount) ?? Math.min(3, maxTrialCount ?? 3);
  const maxFailedTrialCount = read.optionalInteger(s['maxFailedTrialCount'], 'spec.maxFailedTrialCount', 0, LIMITS.maxTrialCount);
  if (maxTrialCount !== undefined) {
    if (parallelTrialCount > maxTrialCount) {
      throw new SpecError('spec.parallelTrialCount', `must not exceed maxTrialCount (got ${parallelTrialCount} > ${maxTrialCount})`);
    }
    if (maxFailedTrialCount !== undefined && maxFailedTrialCount > maxTrialCount) {
      throw new SpecError('spec.maxFailedTrialCount', `must not exceed maxTrialCount (got ${maxFailedTrialCount} > ${maxTrialCount})`);
    }
  }
  return { parallelTrialCount, maxTrialCount, maxFailedTrialCount };
}

function readTrialTemplate(v: unknown, path: string, parameters: readonly ParameterSpec[], configMapTemplate: ConfigMapTemplate | undefined): TrialTemplateSpec {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, [
    'trialParameters', 'trialSpec', 'configMap', 'primaryContainerName', 'primaryPodLabels',
    'successCondition', 'failureCondition', 'retain', 'command',
  ]);
  const configMap = o['configMap'] === undefined || o['configMap'] === null ? undefined : readConfigMapReference(o['configMap'], `${path}.configMap`);
  if (configMap && o['trialSpec'] !== undefined && o['trialSpec'] !== null) {
    throw new SpecError(path, 'give only one of trialSpec or configMap (Katib\'s rule)');
  }
  if (configMap && configMapTemplate === undefined) {
    throw new SpecError(`${path}.configMap`, 'a trial template in a ConfigMap is read from the cluster, and only a server on the kubernetes runtime reads it (this one has no Kubernetes API): inline the template as trialSpec');
  }
  // The template checks below run on the ConfigMap's template too; their errors then name the
  // ConfigMap key they came from.
  try {
    const body = readTemplateBody(o, path, parameters, configMap ? configMapTemplate?.object : o['trialSpec'], configMap);
    const bareValues = configMap ? configMapTemplate?.bareValues ?? [] : [];
    return bareValues.length > 0 ? { ...body, bareValues } : body;
  } catch (err) {
    if (!(err instanceof SpecError) || !configMap || !err.field.startsWith(`${path}.trialSpec`)) throw err;
    const inner = err.field.slice(`${path}.`.length);
    throw new SpecError(`${path}.configMap.templatePath`, `in the template of ConfigMap ${configMap.configMapNamespace}/${configMap.configMapName}, key ${JSON.stringify(configMap.templatePath)}: ${inner}: ${err.reason}`);
  }
}

function readTemplateBody(o: read.Doc, path: string, parameters: readonly ParameterSpec[], rawTrialSpec: unknown, configMap: ConfigMapReference | undefined): TrialTemplateSpec {
  const command = o['command'] === undefined ? undefined : read.list(o['command'], `${path}.command`).map((x, i) => read.string(x, `${path}.command[${i}]`));
  if (command !== undefined && command.length === 0) throw new SpecError(`${path}.command`, 'must not be empty');

  const trialSpec = read.optionalObject(rawTrialSpec, `${path}.trialSpec`);
  if (trialSpec) {
    read.string(trialSpec['apiVersion'], `${path}.trialSpec.apiVersion`);
    read.string(trialSpec['kind'], `${path}.trialSpec.kind`);
    checkObjectMeta(trialSpec['metadata'], `${path}.trialSpec.metadata`);
    const md = read.optionalObject(trialSpec['metadata'], `${path}.trialSpec.metadata`);
    for (const key of ['name', 'namespace']) {
      if (md?.[key] !== undefined) throw new SpecError(`${path}.trialSpec.metadata.${key}`, 'must be omitted: Sibyl sets it for each trial');
    }
  }
  const primaryContainerName = read.optionalString(o['primaryContainerName'], `${path}.primaryContainerName`, LIMITS.maxIdentifierLength);
  if (trialSpec && primaryContainerName === undefined) throw new SpecError(`${path}.primaryContainerName`, 'is required with a trialSpec');

  const trialParameters = readTrialParameters(o['trialParameters'], `${path}.trialParameters`, parameters);
  checkPlaceholders(path, trialParameters.map((t) => t.name), command, trialSpec);
  parameters.forEach((p, i) => {
    if (!trialParameters.some((t) => t.reference === p.name)) {
      throw new SpecError(`spec.parameters[${i}].name`, `"${p.name}" is not referenced by any trialParameter, so no trial would see its value`);
    }
  });

  const labels = read.optionalObject(o['primaryPodLabels'], `${path}.primaryPodLabels`);
  const primaryPodLabels = labels && Object.fromEntries(Object.entries(labels).map(([k, x]) => [k, read.string(x, `${path}.primaryPodLabels.${k}`)]));
  const successCondition = read.optionalString(o['successCondition'], `${path}.successCondition`);
  const failureCondition = read.optionalString(o['failureCondition'], `${path}.failureCondition`);
  return {
    trialParameters,
    ...(configMap ? { configMap } : {}),
    ...(trialSpec ? { trialSpec } : {}),
    ...(primaryContainerName === undefined ? {} : { primaryContainerName }),
    ...(primaryPodLabels ? { primaryPodLabels } : {}),
    ...(successCondition === undefined ? {} : { successCondition }),
    ...(failureCondition === undefined ? {} : { failureCondition }),
    retain: read.boolean(o['retain'], `${path}.retain`, false),
    ...(command ? { command } : {}),
  };
}

function readTrialParameters(v: unknown, path: string, parameters: readonly ParameterSpec[]) {
  const items = read.list(v, path);
  const names = new Set<string>();
  const references = new Set<string>();
  return items.map((x, i) => {
    const p = `${path}[${i}]`;
    const o = read.object(x, p);
    read.noUnknownKeys(o, p, ['name', 'description', 'reference']);
    const name = read.identifier(o['name'], `${p}.name`);
    if (/[{}]/.test(name)) throw new SpecError(`${p}.name`, `must not contain '{' or '}' (got "${name}")`);
    if (names.has(name)) throw new SpecError(`${p}.name`, `duplicate trialParameter name "${name}"`);
    names.add(name);
    const reference = read.string(o['reference'], `${p}.reference`, LIMITS.maxIdentifierLength);
    if (references.has(reference)) throw new SpecError(`${p}.reference`, `"${reference}" is referenced by another trialParameter already`);
    references.add(reference);
    const meta = parseMetaReference(reference);
    if (meta === 'invalid') {
      throw new SpecError(`${p}.reference`, `unknown metadata reference "${reference}" (known: \${trialSpec.Name}, .Namespace, .Kind, .APIVersion, .Annotations[key], .Labels[key])`);
    }
    if (meta === undefined && !parameters.some((q) => q.name === reference)) {
      throw new SpecError(`${p}.reference`, `names no parameter of this study (parameters: ${parameters.map((q) => q.name).join(', ')})`);
    }
    const description = read.optionalString(o['description'], `${p}.description`);
    return { name, reference, ...(description === undefined ? {} : { description }) };
  });
}

/** Katib's rule both ways: every placeholder has a trialParameter and every trialParameter is used. */
function checkPlaceholders(path: string, names: readonly string[], command: readonly string[] | undefined, trialSpec: read.Doc | undefined): void {
  const used = new Set<string>();
  const places: [string, string][] = (command ?? []).map((arg, i) => [`${path}.command[${i}]`, arg]);
  if (trialSpec) places.push([`${path}.trialSpec`, JSON.stringify(trialSpec)]);
  for (const [where, text] of places) {
    for (const name of placeholdersIn(text)) {
      if (!names.includes(name)) throw new SpecError(where, `placeholder \${trialParameters.${name}} has no trialParameter named "${name}"`);
      used.add(name);
    }
  }
  names.forEach((name, i) => {
    if (!used.has(name)) throw new SpecError(`${path}.trialParameters[${i}].name`, `"${name}" is not used by any \${trialParameters.${name}} placeholder in the template`);
  });
}

function readMetricsCollector(v: unknown, path: string): MetricsCollectorSpec {
  const o = read.optionalObject(v, path);
  const collector = read.optionalObject(o?.['collector'], `${path}.collector`);
  if (o) read.noUnknownKeys(o, path, ['collector', 'source']);
  if (collector) read.noUnknownKeys(collector, `${path}.collector`, ['kind', 'customCollector']);
  const kindValue = collector?.['kind'] ?? 'StdOut';
  const kind = read.oneOf(kindValue, `${path}.collector.kind`, ['StdOut', 'File', 'Push', 'TensorFlowEvent', 'PrometheusMetric', 'Custom'] as const);
  if (kind === 'PrometheusMetric') {
    throw new SpecError(`${path}.collector.kind`, "PrometheusMetric is not supported: Katib's shipped configuration has no collector image for it, so Katib refuses it too (use StdOut, File, TensorFlowEvent, Push or Custom)");
  }
  const customCollector = read.optionalObject(collector?.['customCollector'], `${path}.collector.customCollector`);
  if (kind === 'Custom' && !customCollector) throw new SpecError(`${path}.collector.customCollector`, 'is required for the Custom collector (the container that collects and reports the metrics)');
  if (kind !== 'Custom' && customCollector) throw new SpecError(`${path}.collector.customCollector`, `is only used by the Custom collector (kind is ${kind})`);
  const source = read.optionalObject(o?.['source'], `${path}.source`);
  if (source) read.noUnknownKeys(source, `${path}.source`, ['fileSystemPath', 'filter', 'httpGet']);
  const fsp = read.optionalObject(source?.['fileSystemPath'], `${path}.source.fileSystemPath`);
  if (fsp) read.noUnknownKeys(fsp, `${path}.source.fileSystemPath`, ['path', 'kind', 'format']);
  const filter = read.optionalObject(source?.['filter'], `${path}.source.filter`);

  let format: 'TEXT' | 'JSON' = 'TEXT';
  let filePath: string | undefined;
  if (kind === 'TensorFlowEvent') {
    // Summary files are binary: neither a text format nor a regex applies (Katib: format must be empty).
    if (fsp?.['format'] !== undefined && fsp['format'] !== '') throw new SpecError(`${path}.source.fileSystemPath.format`, 'must be empty for the TensorFlowEvent collector (summary files are binary)');
    if (filter) throw new SpecError(`${path}.source.filter`, 'not used by the TensorFlowEvent collector (it reads scalars by tag)');
    fileSystemKind(fsp, path, 'Directory', kind);
    filePath = collectorPath(fsp, path, DEFAULT_TFEVENT_DIR);
  } else {
    format = fsp?.['format'] === undefined || fsp['format'] === '' ? 'TEXT' : read.oneOf(fsp['format'], `${path}.source.fileSystemPath.format`, ['TEXT', 'JSON'] as const);
    if (kind === 'File') {
      fileSystemKind(fsp, path, 'File', kind);
      filePath = collectorPath(fsp, path, DEFAULT_METRICS_FILE);
      if (filePath.endsWith('/')) throw new SpecError(`${path}.source.fileSystemPath.path`, `must name a file, not a directory (got "${filePath}")`);
    } else if (kind === 'Custom' && fsp?.['path'] !== undefined) {
      filePath = collectorPath(fsp, path, DEFAULT_METRICS_FILE); // where the user's collector looks; kept for them
    }
  }
  if (filter && format === 'JSON') throw new SpecError(`${path}.source.filter`, 'not allowed with the JSON format');
  const regexes = filter?.['metricsFormat'] === undefined ? [] : read.list(filter['metricsFormat'], `${path}.source.filter.metricsFormat`, LIMITS.maxMetricsFormats);
  const metricsFormat = regexes.map((x, i) => {
    const p = `${path}.source.filter.metricsFormat[${i}]`;
    const regex = read.string(x, p);
    const reason = validateMetricsFormat(regex);
    if (reason) throw new SpecError(p, reason);
    return regex;
  });
  return {
    kind,
    format,
    ...(filePath === undefined ? {} : { path: filePath }),
    metricsFormat: metricsFormat.length > 0 ? metricsFormat : [DEFAULT_METRICS_FORMAT],
    ...(customCollector ? { customCollector } : {}),
  };
}

/** `fileSystemPath.kind`: the one each collector reads (Katib: File for File, Directory for TensorFlowEvent). */
function fileSystemKind(fsp: read.Doc | undefined, path: string, expected: 'File' | 'Directory', kind: string): void {
  const given = fsp?.['kind'];
  if (given === undefined || given === '') return;
  const value = read.oneOf(given, `${path}.source.fileSystemPath.kind`, ['File', 'Directory'] as const);
  if (value !== expected) throw new SpecError(`${path}.source.fileSystemPath.kind`, `must be ${expected} for the ${kind} collector (got ${value})`);
}

/**
 * An absolute path without `.`/`..` segments: runtimes re-root it (a local trial's own folder,
 * a dump from the pod), which must never reach outside the place it is re-rooted in.
 */
function collectorPath(fsp: read.Doc | undefined, path: string, fallback: string): string {
  const field = `${path}.source.fileSystemPath.path`;
  const given = fsp?.['path'] === undefined || fsp['path'] === '' ? fallback : read.string(fsp['path'], field);
  if (!given.startsWith('/')) throw new SpecError(field, `must be an absolute path (got "${excerpt(given)}")`);
  if (given.split('/').some((segment) => segment === '.' || segment === '..')) throw new SpecError(field, `must not contain "." or ".." segments (got "${excerpt(given)}")`);
  if (/[\u0000-\u001f]/.test(given)) throw new SpecError(field, 'must not contain control characters');
  return given;
}
