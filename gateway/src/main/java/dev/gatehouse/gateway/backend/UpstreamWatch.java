package dev.gatehouse.gateway.backend;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stall limit on reading a provider's body ({@link ReadTimeoutStream}), kept by one thread that
 * looks at every open read {@value #CHECK_MILLIS} ms apart: a stall is seen up to that much after it
 * passes. An alarm scheduled per body woke a watchdog for nearly every proxied request (a new alarm at
 * the head of an empty queue signals it), a context switch on the gateway's core (docs/benchmarks.md,
 * the proxy path's fifth pass). A stalled body is closed under its read, not its thread interrupted
 * as {@link dev.gatehouse.gateway.connection.Deadlines} does, because the reader must learn it was a
 * stall.
 */
final class UpstreamWatch {
    static final long CHECK_MILLIS = 50;

    /** A wait under a time limit: {@link #check} acts when the limit has passed at {@code now}. */
    interface Watched {
        void check(long now);
    }

    private static final Set<Watched> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Thread.ofPlatform().daemon().name("upstream-watch").start(UpstreamWatch::watch);
    }

    private UpstreamWatch() {}

    static void add(Watched w) {
        OPEN.add(w);
    }

    static void remove(Watched w) {
        OPEN.remove(w);
    }

    private static void watch() {
        while (true) {
            try {
                Thread.sleep(CHECK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Watched w : OPEN) {
                w.check(now);
            }
        }
    }
}
