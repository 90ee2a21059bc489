package dev.gatehouse.gateway.backend;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The time limits on waiting for a provider (its response headers, each read of its body), kept by
 * one thread that looks at every open wait {@value #CHECK_MILLIS} ms apart: a limit is seen up to
 * that much after it passes. A timer per request woke a thread for nearly every proxied request:
 * the JDK client's request timeout wakes its selector thread when it is registered, and an alarm
 * scheduled per body woke a watchdog (a new alarm at the head of an empty queue signals it), each
 * a context switch on the gateway's core (docs/benchmarks.md, the proxy path's fifth pass).
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
