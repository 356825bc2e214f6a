//! A queue of fixed capacity: pushing into a full queue gives the item back
//! (the caller drops and counts it) instead of growing. Never allocates
//! after construction.

use std::collections::VecDeque;

/// A bounded FIFO queue.
#[derive(Debug)]
pub struct BoundedQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> BoundedQueue<T> {
    /// An empty queue holding at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        BoundedQueue { items: VecDeque::with_capacity(capacity), capacity }
    }

    /// Appends `item`, or gives it back when the queue is full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.items.len() >= self.capacity {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    /// Puts `item` back at the front (after a failed send), or gives it back when full.
    pub fn push_front(&mut self, item: T) -> Result<(), T> {
        if self.items.len() >= self.capacity {
            return Err(item);
        }
        self.items.push_front(item);
        Ok(())
    }

    /// The oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Drops everything queued and says how many.
    pub fn clear(&mut self) -> usize {
        let n = self.items.len();
        self.items.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_queue_refuses_without_growing() {
        let mut q = BoundedQueue::new(2);
        assert!(q.push(1).is_ok() && q.push(2).is_ok());
        assert_eq!(q.push(3), Err(3));
        assert_eq!(q.push_front(0), Err(0));
        assert_eq!(q.pop(), Some(1));
        assert!(q.push_front(0).is_ok());
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(0), Some(2), None));
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
    }
}
