package dev.gatehouse.gateway.connection;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Time limits on blocking calls that have none of their own: a section of code runs under a
 * {@link Guard}, and one still open past its deadline gets its thread interrupted. One thread looks
 * at every open guard {@code checkMillis} apart, so a deadline is seen up to that much late, and no
 * timer is registered (nor a thread woken) per call.
 *
 * <p>Used for the client's sockets: Java sockets have no write timeout, and Helidon sets no read
 * timeout, so a client that stops reading, or sends a byte now and then, would hold a connection
 * thread (and, mid-generation, a KV slot) for ever. Helidon runs every connection on a virtual
 * thread, and a virtual thread interrupted in socket I/O has its socket closed and the call fails
 * (see {@link java.net.Socket}): the client is disconnected, and the code that was waiting on it sees
 * an IOException as for any lost client. Also used for a provider's response headers (the JDK client
 * cancels an exchange whose caller is interrupted).
 */
public final class Deadlines implements AutoCloseable {
    private final Set<Guard> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService clock;

    public Deadlines(String threadName, long checkMillis) {
        clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        clock.scheduleAtFixedRate(this::expire, checkMillis, checkMillis, TimeUnit.MILLISECONDS);
    }

    /** Starts a guarded section on the current thread, ending {@code nanos} from now. */
    public Guard start(long nanos) {
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

    /** One guarded section; close it when the call has returned. */
    public final class Guard implements AutoCloseable {
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
        public synchronized boolean expired() {
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
