// Summary files for tests, from the independent standard-library Python writer beside this file.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const WRITER = join(process.cwd(), 'test', 'support', 'tfevents_writer.py');

export interface SummaryValue { tag: string; kind: 'simple' | 'float_tensor' | 'double_tensor' | 'float_content' | 'image'; value?: number; metadata?: boolean }
export interface WriterSpec { events: { step: number; wall_time?: number; values: SummaryValue[] }[]; corrupt?: string; corrupt_record?: number; cut?: number }

export function writeSummaryFile(file: string, spec: WriterSpec): Buffer {
  mkdirSync(dirname(file), { recursive: true });
  execFileSync('python3', [WRITER, file, JSON.stringify(spec)]);
  return readFileSync(file);
}
