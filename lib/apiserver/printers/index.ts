export * from './table.js';
import './core.js';
