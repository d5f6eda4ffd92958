//! rayon's side of bench_core: the same workloads as the C++ lab, timed
//! here, one line of figures per workload on stdout for bench_core to read.
//!
//!   bench_rayon WORKLOAD THREADS TASKS ROUNDS
//!
//! WORKLOAD: single (rayon::spawn from a thread outside the pool, one task
//! at a time), bulk (par_iter over TASKS items, the auto-splitting
//! for_each), fib12 / fib20 (fib(30) with rayon::join, sequential at and
//! below the cutoff). Each task bumps one shared atomic counter, as
//! bench::Tick does in C++. Prints "seconds <median seconds per round>" and
//! "check <value>" (the counter, or fib(30)), which bench_core verifies.
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

struct Countdown {
    count: AtomicU64,
    target: AtomicU64,
    done: Mutex<bool>,
    cv: Condvar,
}

impl Countdown {
    fn new() -> Self {
        Countdown { count: AtomicU64::new(0), target: AtomicU64::new(0), done: Mutex::new(false), cv: Condvar::new() }
    }
    fn reset(&self, n: u64) {
        self.count.store(0, Ordering::Relaxed);
        self.target.store(n, Ordering::Relaxed);
        *self.done.lock().unwrap() = false;
    }
    fn hit(&self) {
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.target.load(Ordering::Relaxed) {
            *self.done.lock().unwrap() = true;
            self.cv.notify_one();
        }
    }
    fn wait(&self) {
        let mut done = self.done.lock().unwrap();
        while !*done {
            done = self.cv.wait(done).unwrap();
        }
    }
}

fn fib_seq(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib_seq(n - 1) + fib_seq(n - 2) }
}

fn fib_join(n: u32, cutoff: u32) -> u64 {
    if n <= cutoff {
        return fib_seq(n);
    }
    let (a, b) = rayon::join(|| fib_join(n - 1, cutoff), || fib_join(n - 2, cutoff));
    a + b
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: bench_rayon single|bulk|fib12|fib20 THREADS TASKS ROUNDS");
        std::process::exit(2);
    }
    let workload = args[1].as_str();
    let threads: usize = args[2].parse().expect("THREADS");
    let tasks: u64 = args[3].parse().expect("TASKS");
    let rounds: usize = args[4].parse().expect("ROUNDS");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a rayon pool");
    let counter = Arc::new(Countdown::new());
    let mut times = Vec::with_capacity(rounds);
    let mut check = 0u64;
    // One round untimed first: the pool's threads start and warm up.
    for round in 0..=rounds {
        let start = Instant::now();
        match workload {
            "single" => {
                counter.reset(tasks);
                for _ in 0..tasks {
                    let c = Arc::clone(&counter);
                    pool.spawn(move || c.hit());
                }
                counter.wait();
                check = counter.count.load(Ordering::Acquire);
            }
            "bulk" => {
                counter.reset(tasks);
                let c = &counter;
                pool.install(|| (0..tasks).into_par_iter().for_each(|_| c.hit()));
                check = counter.count.load(Ordering::Acquire);
            }
            "fib12" => check = pool.install(|| fib_join(30, 12)),
            "fib20" => check = pool.install(|| fib_join(30, 20)),
            _ => {
                eprintln!("unknown workload {workload}");
                std::process::exit(2);
            }
        }
        if round > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    println!("seconds {:.9}", median(times));
    println!("check {check}");
}
