// The File and TensorFlowEvent collectors on Kubernetes, without a sidecar. A file in a trial's
// pod is out of reach once its container exits (pods/exec needs a running container), so the
// primary container's command is wrapped, as Katib wraps it for StdOut: a POSIX sh runs the
// original argv, forwards SIGTERM to it, and when it exits writes the collector's files to the
// container's stdout between marker lines, then exits with the original status. The pod-log
// reader (logs.ts) reads that to the end before the trial is reported finished; this module
// takes the marked lines out of the log and hands the decoded bytes to the collector.
//
// Encoding: `base64` when the image has it (coreutils, busybox), else POSIX `od -An -v -tx1`
// (hex), so any image with a POSIX shell works. An emptyDir is mounted at the collector's
// folder (unless the container mounts one there), so a non-root trial can write it. The files arrive when the trial ends (Katib's
// own collectors also report once, after the training process exits); their size is bounded
// by what the kubelet keeps of a container's log (containerLogMaxSize, 10 MiB by default).
import { posix } from 'node:path';
import { SpecError } from '../../spec/errors.js';
import type { MetricsCollectorSpec, StudySpec } from '../../spec/types.js';
import { podSpecOf, type KubeObject, type PodTemplateContainer } from './render.js';

const MARK = '<<<sibyl-metrics-file';
const BEGIN = `${MARK} begin `;
const END = `${MARK} end>>>`;
const MISSING = `${MARK} missing `;

export function dumpsFiles(c: MetricsCollectorSpec | undefined): c is MetricsCollectorSpec & { path: string } {
  return (c?.kind === 'File' || c?.kind === 'TensorFlowEvent') && c.path !== undefined;
}

/**
 * The wrap needs the argv to wrap (an image's own entrypoint is not known here), in a pod
 * template's container: kinds that keep their primary container elsewhere (TrainJob's trainer,
 * Argo and Tekton steps) are not wrapped yet. `primary` is the primary container in its pod template, if it is in one.
 */
export function validateMetricsDump(spec: StudySpec, primary: PodTemplateContainer | undefined): void {
  if (!dumpsFiles(spec.metricsCollector)) return;
  const kind = spec.metricsCollector.kind;
  if (!primary) {
    throw new SpecError('spec.metricsCollectorSpec.collector.kind', `the ${kind} collector reads files through the primary container of a pod template, which a ${String(spec.trialTemplate.trialSpec?.['kind'])} trial does not have: use StdOut or Push`);
  }
  const name = spec.trialTemplate.primaryContainerName ?? '';
  const command = primary.container['command'];
  if (!(Array.isArray(command) && command.length > 0)) {
    throw new SpecError('spec.trialTemplate.trialSpec', `the primary container "${name}" needs a command: the ${kind} collector wraps it to read its files when it exits`);
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The script `sh -c` runs; the original argv comes as its positional parameters. */
export function dumpScript(c: MetricsCollectorSpec & { path: string }): string {
  const path = c.path.replace(/\/+$/, '') || '/';
  const test = c.kind === 'File' ? '-f' : '-d';
  return [
    '"$@" &',
    'child=$!',
    `trap 'kill -TERM "$child" 2>/dev/null' TERM INT`,
    'wait "$child"; rc=$?',
    // A trapped signal ends `wait` early: wait again for the real exit status.
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done',
    'if command -v base64 >/dev/null 2>&1; then enc=base64; else enc=od; fi',
    `dump() { echo "${BEGIN}$enc $1"; if [ "$enc" = base64 ]; then base64 "$1"; else od -An -v -tx1 "$1"; fi; echo "${END}"; }`,
    `p=${shellQuote(path)}`,
    c.kind === 'File'
      ? `if [ ${test} "$p" ]; then dump "$p"; else echo "${MISSING}$p"; fi`
      : `if [ ${test} "$p" ]; then find "$p" -type f | sort | while IFS= read -r f; do dump "$f"; done; else echo "${MISSING}$p"; fi`,
    'exit $rc',
  ].join('\n');
}

/**
 * Wraps the primary container of a rendered trial object (in place), and mounts an emptyDir at
 * the collector's folder (the File's directory, the TensorFlowEvent directory) as Katib does:
 * a trial image that runs as a non-root user can write there.
 */
export function wrapPrimaryContainer(object: KubeObject, containerName: string | undefined, c: MetricsCollectorSpec & { path: string }): void {
  const found = containerName ? podSpecOf(object['spec'], containerName) : undefined;
  if (!found || !Array.isArray(found.container['command'])) return; // validateMetricsDump refused it
  const { container, podSpec } = found;
  const argv = [...container['command'], ...(Array.isArray(container['args']) ? container['args'] : [])];
  container['command'] = ['sh', '-c', dumpScript(c), 'sibyl-trial', ...argv];
  delete container['args'];
  const path = c.path.replace(/\/+$/, '') || '/';
  const mountPath = c.kind === 'File' ? posix.dirname(path) : path;
  const mounts: KubeObject[] = Array.isArray(container['volumeMounts']) ? container['volumeMounts'] : [];
  if (mountPath === '/' || mounts.some((m) => String(m['mountPath']).replace(/\/+$/, '') === mountPath)) return; // the user's own volume
  podSpec['volumes'] = [...(Array.isArray(podSpec['volumes']) ? podSpec['volumes'] : []), { name: METRICS_VOLUME, emptyDir: {} }];
  container['volumeMounts'] = [...mounts, { name: METRICS_VOLUME, mountPath }];
}

const METRICS_VOLUME = 'sibyl-metrics';

/**
 * Takes the dumped files out of a pod log, line by line: `consume` says whether a line was part
 * of a dump (and is not the trial's output). Bytes go to `data` as each line is decoded.
 */
export class MetricsDumpReader {
  private current?: { file: string; encoding: 'base64' | 'od'; rest: string; bytes: number };
  private readonly root: string;

  constructor(
    private readonly collector: MetricsCollectorSpec & { path: string },
    private readonly data: (file: string, chunk: Buffer) => void,
    private readonly problem: (message: string) => void,
    private readonly note: (line: string) => void = () => {},
  ) {
    this.root = collector.path.replace(/\/+$/, '');
  }

  consume(line: string): boolean {
    const c = this.current;
    if (c) {
      if (line === END) {
        if (c.encoding === 'base64' && c.rest !== '') this.deliver(Buffer.from(c.rest, 'base64'));
        this.note(`── metrics: ${this.display(c.file)}: ${c.bytes} bytes, read from the pod log`);
        this.current = undefined;
        return true;
      }
      this.deliver(c.encoding === 'base64' ? this.base64(line) : hexBytes(line));
      return true;
    }
    if (line.startsWith(BEGIN)) {
      const rest = line.slice(BEGIN.length);
      const space = rest.indexOf(' ');
      const encoding = rest.slice(0, space) === 'od' ? 'od' : 'base64';
      const absolute = rest.slice(space + 1);
      this.current = { file: this.relative(absolute), encoding, rest: '', bytes: 0 };
      return true;
    }
    if (line.startsWith(MISSING)) {
      const what = this.collector.kind === 'File' ? 'metrics file' : 'summary directory';
      this.problem(`the trial's container had no ${what} ${line.slice(MISSING.length)} when it exited`);
      return true;
    }
    return false;
  }

  /** The log is complete: a dump without its end marker was cut short (what came is kept). */
  end(): void {
    if (!this.current) return;
    this.problem(`the pod log ends inside the dump of ${this.display(this.current.file)} (${this.current.bytes} bytes came): the rest of it is lost`);
    this.current = undefined;
  }

  private base64(line: string): Buffer {
    // Decoded in whole quanta of four characters, whatever the line length the tool chose.
    const text = this.current!.rest + line.trim();
    const whole = text.length - (text.length % 4);
    this.current!.rest = text.slice(whole);
    return Buffer.from(text.slice(0, whole), 'base64');
  }

  private deliver(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.current!.bytes += bytes.length;
    this.data(this.current!.file, bytes);
  }

  private relative(absolute: string): string {
    if (this.collector.kind === 'File') return '';
    return absolute.startsWith(`${this.root}/`) ? absolute.slice(this.root.length + 1) : absolute;
  }

  private display(file: string): string {
    return file === '' ? this.collector.path : `${this.root}/${file}`;
  }
}

function hexBytes(line: string): Buffer {
  const pairs = line.trim().split(/\s+/).filter((p) => /^[0-9a-f]{2}$/i.test(p));
  return Buffer.from(pairs.map((p) => parseInt(p, 16)));
}
