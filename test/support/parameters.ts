// Parameter specs for algorithm tests: uniform ranges, with any other field given in `extra`.
import type { ParameterSpec } from '../../src/spec/types.js';

export const double = (name: string, min: number, max: number, extra: Partial<ParameterSpec> = {}): ParameterSpec =>
  ({ name, parameterType: 'double', min, max, distribution: 'uniform', ...extra }) as ParameterSpec;
export const int = (name: string, min: number, max: number, extra: Partial<ParameterSpec> = {}): ParameterSpec =>
  ({ name, parameterType: 'int', min, max, distribution: 'uniform', ...extra }) as ParameterSpec;
