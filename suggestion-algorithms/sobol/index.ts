// `sobol`: scrambled Sobol quasi-random points (Katib serves it from goptuna, with no settings;
// `random_state` is accepted here to fix the scrambling). The n-th trial of a study, active ones
// included, gets point n of the sequence, so batches never repeat themselves and a resumed study
// continues the sequence instead of replaying it. Index 0 is used too: after scrambling it is
// an ordinary random point, and starting at 0 keeps every first 2^k points a stratified net.
//
// Points live in the unit cube of `unitCube(spec)`; a categorical or discrete parameter takes the
// argmax of its one-hot coordinates, which picks every choice equally often but is not
// low-discrepancy across choices.
import { SpecError } from '../../src/spec/errors.js';
import type { StudySpec } from '../../src/spec/types.js';
import { withoutRepeats } from '../repeats.js';
import { readIntSetting, rejectUnknownSettings } from '../settings.js';
import { unitCube } from '../transform.js';
import type { SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../types.js';
import { MAX_DIMENSIONS, scrambledSobol } from './sequence.js';

const NAME = 'sobol';
const KNOWN_SETTINGS = ['random_state'];

function readRandomState(spec: StudySpec): number | undefined {
  return readIntSetting(spec, 'random_state', { min: 0 });
}

export const sobolAlgorithm: SuggestionAlgorithm = {
  name: NAME,

  validate(spec) {
    rejectUnknownSettings(spec, NAME, KNOWN_SETTINGS);
    readRandomState(spec);
    const { dims } = unitCube(spec);
    if (dims > MAX_DIMENSIONS) {
      throw new SpecError('spec.parameters', `algorithm "${NAME}" supports at most ${MAX_DIMENSIONS} dimensions (one per range parameter, one per categorical/discrete choice); this space has ${dims}`);
    }
  },

  suggest({ spec, trials, count, seed }: SuggestRequest): SuggestResult {
    const cube = unitCube(spec);
    const sequence = scrambledSobol(cube.dims, readRandomState(spec) ?? seed);
    const first = trials.length;
    const proposals = Array.from({ length: Math.max(0, count) }, (_, i) => cube.decode(sequence.point(first + i)));
    return withoutRepeats(spec, trials, proposals, seed);
  },
};
