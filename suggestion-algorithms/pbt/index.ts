// `pbt`: population-based training (Jaderberg et al. 2017) with Katib's settings and labels.
// Generation 0 is `n_population` random members; each later generation is bred from the one
// before once all of its members have completed (breed.ts: the best continue from their own
// checkpoints, the worst `truncation_threshold` fraction are replaced by explored copies of
// the best, checkpoints included). Every trial is labelled with its generation and its parent,
// the trial whose checkpoint it starts from; runtimes copy that checkpoint (Sibyl's local
// runtime does; see src/runtimes/local/checkpoints.ts).
//
// Where Sibyl differs from Katib's own service (pkg/suggestion/v1beta1/pbt/service.py):
// - Katib labels an exploiting trial with the *replaced* trial as parent, so it starts from
//   the loser's checkpoint with the winner's hyperparameters; Sibyl's parent is the winner.
// - Katib perturbs every surviving member and copies the winners' values unperturbed into the
//   replaced ones; Sibyl (as the paper) explores only the copies and lets survivors continue.
// - Katib keeps its queue in memory (lost on a restart) and names trials itself to create
//   their checkpoint folders; Sibyl rebuilds everything from the trials' labels, and the
//   runtime prepares a trial's folder when it launches it.
// - Katib needs `step` on int and double parameters (its sampler is a grid and fails without
//   one); Sibyl samples like `random`, so a step is optional and, when given, keeps values on it.
// - A generation has exactly `n_population` members: between generations Sibyl proposes
//   nothing until the last member completes, unless the caller refuses fewer assignments than
//   it asks for (Katib's controller), which then gets extra members as Katib makes them.
import type { SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../model.js';
import { extraMember, type Entry } from './breed.js';
import { labelsFor } from './labels.js';
import { readPopulation } from './population.js';
import { NAME, readPbtSettings } from './settings.js';

export { GENERATION_LABEL, PARENT_LABEL } from './labels.js';

export const pbtAlgorithm: SuggestionAlgorithm = {
  name: NAME,

  validateSettings(_space, settings) {
    readPbtSettings(settings);
  },

  suggest({ space, trials, count, seed, settings, fill }: SuggestRequest): SuggestResult {
    const s = readPbtSettings(settings);
    seed = s.randomState ?? seed;
    const population = readPopulation(space, trials, s, seed);
    const entries: Entry[] = [...population.owed, ...population.unfilled].slice(0, Math.max(0, count));
    for (let j = population.extras; fill && entries.length < count; j++) {
      entries.push(extraMember(space, population.generation, j, population.previous, s, seed));
    }
    return {
      assignments: entries.map((e) => e.assignment),
      labels: entries.map((e) => labelsFor(population.generation, e.parent)),
    };
  },
};
