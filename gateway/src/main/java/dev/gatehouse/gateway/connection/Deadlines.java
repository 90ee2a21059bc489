package dev.gatehouse.gateway.connection;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Time limits on blocking socket reads and writes. Java sockets have no write timeout, and Helidon
 * sets no read timeout, so a client that stops reading, or sends a byte now and then, would hold a
 * connection thread (and, mid-generation, a KV slot) for ever. A section of code that reads from or
 * writes to the client runs under a {@link Guard}; one still open past its deadline gets its thread
 * interrupted. Helidon runs every connection on a virtual thread, and a virtual thread interrupted
 * in socket I/O has its socket closed and the call fails (see {@link java.net.Socket}): the client is
 * disconnected, and the code that was waiting on it sees an IOException as for any lost client.
 */
final class Deadlines implements AutoCloseable {
    private static final long CHECK_MILLIS = 100;

    private final Set<Guard> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-deadlines");
        t.setDaemon(true);
        return t;
    });

    Deadlines() {
        clock.scheduleAtFixedRate(this::expire, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Starts a guarded section on the current thread, ending {@code nanos} from now. */
    Guard start(long nanos) {
        Guard g = new Guard(Thread.currentThread(), System.nanoTime() + nanos);
        open.add(g);
        return g;
    }

    private void expire() {
        long now = System.nanoTime();
        for (Guard g : open) {
            if (now - g.deadline > 0) {
                g.expire();
            }
        }
    }

    @Override
    public void close() {
        clock.shutdownNow();
    }

    /** One guarded section; close it when the read or write has returned. */
    final class Guard implements AutoCloseable {
        private final Thread thread;
        private final long deadline;
        private boolean closed; // guarded by this
        private boolean expired; // guarded by this

        private Guard(Thread thread, long deadline) {
            this.thread = thread;
            this.deadline = deadline;
        }

        /**
         * Guards are equal only to themselves; their hash comes from the deadline, because an identity
         * hash is computed and stored on each new guard's first use, and a guard goes into the set for
         * every read and write of a client's connection.
         */
        @Override
        public int hashCode() {
            return Long.hashCode(deadline);
        }

        private synchronized void expire() {
            open.remove(this);
            if (!closed && !expired) {
                expired = true;
                thread.interrupt();
            }
        }

        /** Whether the deadline passed before the section ended (its thread was interrupted). */
        synchronized boolean expired() {
            return expired;
        }

        /** Ends the section. An interrupt that came too late to stop the call is cleared, not left for later code. */
        @Override
        public void close() {
            open.remove(this);
            synchronized (this) {
                closed = true;
                if (expired) {
                    Thread.interrupted();
                }
            }
        }
    }
}
