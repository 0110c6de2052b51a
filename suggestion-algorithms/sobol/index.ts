// `sobol`: scrambled Sobol quasi-random points (Katib serves it from goptuna, with no settings;
// `random_state` is accepted here to fix the scrambling). The n-th trial of a study, active ones
// included, gets point n of the sequence, so batches never repeat themselves and a resumed study
// continues the sequence instead of replaying it. Index 0 is used too: after scrambling it is
// an ordinary random point, and starting at 0 keeps every first 2^k points a stratified net.
//
// Points live in the unit cube of `unitCube(space)`; a categorical or discrete parameter takes the
// argmax of its one-hot coordinates, which picks every choice equally often but is not
// low-discrepancy across choices.
import { SettingsError, type SuggestRequest, type SuggestResult, type SuggestionAlgorithm } from '../model.js';
import { withoutRepeats } from '../repeats.js';
import { readRandomState } from '../settings.js';
import { unitCube } from '../transform.js';
import { MAX_DIMENSIONS, scrambledSobol } from './sequence.js';

const NAME = 'sobol';
// Katib's goptuna sobol sampler takes no settings and ignores any given; Sibyl reads
// random_state (the scrambling seed) and ignores the rest as goptuna does.

export const sobolAlgorithm: SuggestionAlgorithm = {
  name: NAME,
  multiObjective: true, // it never reads values

  validateSettings(space, settings) {
    readRandomState(settings);
    const { dims } = unitCube(space);
    if (dims > MAX_DIMENSIONS) {
      throw new SettingsError({ space: true }, `algorithm "${NAME}" supports at most ${MAX_DIMENSIONS} dimensions (one per range parameter, one per categorical/discrete choice); this space has ${dims}`);
    }
  },

  suggest({ space, trials, count, seed, settings }: SuggestRequest): SuggestResult {
    const cube = unitCube(space);
    const sequence = scrambledSobol(cube.dims, readRandomState(settings) ?? seed);
    const first = trials.length;
    const proposals = Array.from({ length: Math.max(0, count) }, (_, i) => cube.decode(sequence.point(first + i)));
    return withoutRepeats(space, trials, proposals, seed);
  },
};
