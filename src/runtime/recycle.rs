//! Giving spent buffers back to the core that filled them.
//!
//! Output blocks and shuffled batches are filled on one core and read on
//! another. Dropping them where they were read would free their memory on the
//! wrong thread (slow, and it starves the producer's allocator cache) and
//! decrement the reference counts of their strings on cache lines the
//! producer owns. Instead the reader offers each spent buffer back over a
//! bounded channel; a task on the producer's executor empties it there and
//! keeps it in a [`Pool`] for reuse. A full or closed return channel just
//! drops the buffer where it is, so returning never waits.

use std::cell::RefCell;
use std::rc::Rc;

use super::channel::Rx;
use super::exec::{spawn_local, LocalTask};

/// At most this many spent buffers wait in a pool for reuse.
const MAX_POOLED: usize = 16;

/// A buffer that can be emptied for reuse.
pub(crate) trait Reusable {
    fn clear_for_reuse(&mut self);
}

impl Reusable for crate::data::Batch {
    fn clear_for_reuse(&mut self) {
        self.clear();
    }
}

/// Emptied buffers of one executor, ready for reuse.
pub(crate) struct Pool<T> {
    spare: Rc<RefCell<Vec<T>>>,
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Pool {
            spare: self.spare.clone(),
        }
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            spare: Rc::new(RefCell::new(Vec::new())),
        }
    }
}

impl<T: Reusable> Pool<T> {
    /// A spare buffer, or a new one from `make`.
    pub fn take_or(&self, make: impl FnOnce() -> T) -> T {
        self.spare.borrow_mut().pop().unwrap_or_else(make)
    }

    /// Empties `buffer` and keeps it, unless the pool is full.
    pub fn put(&self, mut buffer: T) {
        buffer.clear_for_reuse();
        let mut spare = self.spare.borrow_mut();
        if spare.len() < MAX_POOLED {
            spare.push(buffer);
        }
    }
}

/// Starts a task that takes the buffers coming back over `returns` into `pool`.
/// Dropping the task stops it.
pub(crate) fn spawn_recycler<T: Reusable + Send + 'static>(
    mut returns: Rx<T>,
    pool: Pool<T>,
) -> LocalTask<()> {
    spawn_local(async move {
        while let Some(buffer) = returns.recv_anyway().await {
            pool.put(buffer);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Batch, Value};

    #[test]
    fn pooled_buffers_come_back_empty_and_the_pool_is_bounded() {
        let pool: Pool<Batch> = Pool::default();
        let mut batch = Batch::with_capacity(1, 4);
        batch.push_row(&[Value::Int(1)], 0);
        pool.put(batch);
        let reused = pool.take_or(|| Batch::new(1));
        assert!(reused.is_empty());
        for _ in 0..MAX_POOLED + 5 {
            pool.put(Batch::new(1));
        }
        assert_eq!(pool.spare.borrow().len(), MAX_POOLED);
        let fresh = Pool::<Batch>::default().take_or(|| Batch::new(3));
        assert_eq!(fresh.width(), 3);
    }
}
