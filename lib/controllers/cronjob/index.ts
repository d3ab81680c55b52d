/** The CronJob controller and its cron schedule parser. */
export * from './cronjob-controller.js';
export * from './cron.js';
