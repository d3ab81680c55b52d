/** The disruption controller: PodDisruptionBudget status, which pods/eviction consults. */
export * from './disruption-controller.js';
