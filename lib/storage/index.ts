export * from './interface.js';
export { writtenJSON } from './written.js';
export { Etcd3Storage, type Etcd3StorageOptions } from './etcd3/store.js';
export { WatchCache, CachedObject, TooOldError, type CacheWatcherSink, type FilteredEvent, type Predicate } from './cacher/watch-cache.js';
export { MemoryStorage } from './memory/store.js';
export * from './encryption/index.js';
