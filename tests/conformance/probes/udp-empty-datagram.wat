;; Can the host send an empty UDP datagram? Two UDP sockets on loopback
;; (WAMR's socket extension): B is bound, A is bound and connected to B. A
;; sends a datagram of 0 bytes, then one of 1 byte; B is polled for input
;; after each (500 ms at most). Exit 0: the empty one arrived; 1: it did not
;; (nothing was readable in time) while the 1-byte one did; 2: neither
;; arrived (the probe itself is broken); 100 + errno: a call failed.
;; Setup: `run --sockets wamr` (iwasm grants loopback).
(module
  (import "wasi_snapshot_preview1" "sock_open" (func $open (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_bind" (func $bind (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_addr_local" (func $local (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_connect" (func $connect (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  ;; 16: address 127.0.0.1:0 (kind 0 = IPv4, octets, port 0)
  (data (i32.const 16) "\00\00\00\00\7f\00\00\01\00\00")
  (data (i32.const 580) "X")
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (i32.add (i32.const 100) (local.get $errno))))))
  ;; Whether B (fd at 0) became readable before a 500 ms timer.
  (func $arrived (result i32)
    (i64.store (i32.const 96) (i64.const 1))
    (i32.store8 (i32.const 104) (i32.const 1))
    (i32.store (i32.const 112) (i32.load (i32.const 0)))
    (i64.store (i32.const 144) (i64.const 2))
    (i32.store8 (i32.const 152) (i32.const 0))
    (i32.store (i32.const 160) (i32.const 1))
    (i64.store (i32.const 168) (i64.const 500000000))
    (i64.store (i32.const 176) (i64.const 0))
    (i32.store16 (i32.const 184) (i32.const 0))
    (call $check (call $poll (i32.const 96) (i32.const 300) (i32.const 2) (i32.const 380)))
    (i64.eq (i64.load (i32.const 300)) (i64.const 1)))
  ;; A (fd at 4) sends `len` bytes.
  (func $send_len (param $len i32)
    (i32.store (i32.const 80) (i32.const 580))
    (i32.store (i32.const 84) (local.get $len))
    (drop (call $send (i32.load (i32.const 4)) (i32.const 80) (i32.const 1) (i32.const 0) (i32.const 88))))
  (func (export "_start") (local $empty i32)
    (call $check (call $open (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (call $check (call $open (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4)))
    (call $check (call $bind (i32.load (i32.const 0)) (i32.const 16)))
    (call $check (call $local (i32.load (i32.const 0)) (i32.const 48)))
    (call $check (call $bind (i32.load (i32.const 4)) (i32.const 16)))
    (call $check (call $connect (i32.load (i32.const 4)) (i32.const 48)))
    (call $send_len (i32.const 0))
    (local.set $empty (call $arrived))
    (if (local.get $empty) (then (call $exit (i32.const 0))))
    (call $send_len (i32.const 1))
    (if (call $arrived) (then (call $exit (i32.const 1))))
    (call $exit (i32.const 2))))
