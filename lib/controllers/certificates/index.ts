export { CSRSigningController, CSRApprovingController, CSRCleanerController, csrDeadline, type CSRSigningControllerOptions } from './controllers.js';
export * from './signer-rules.js';
export { certificateControllers } from './descriptors.js';
