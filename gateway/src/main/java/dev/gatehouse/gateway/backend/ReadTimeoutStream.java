package dev.gatehouse.gateway.backend;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A provider's response body with the read timeout the JDK client lacks (its request timeout ends
 * when the headers arrive): a read that waits longer than {@code stallMillis} for a byte is a
 * {@link StalledException}, because a watchdog closes the body under the blocked read. Whole
 * answers and streams both read through it, so a provider that sends its headers and then goes
 * silent fails as a timeout either way.
 *
 * <p>The watchdog is {@link UpstreamWatch}: a body is watched from its first read until it is closed.
 */
public final class ReadTimeoutStream extends InputStream implements UpstreamWatch.Watched {
    /** No byte came within the stall timeout. */
    public static final class StalledException extends IOException {
        StalledException(long millis) {
            super("no data for " + millis + " ms");
        }
    }

    private final InputStream body;
    private final long stallMillis;
    private volatile boolean stalled;
    private volatile long readingSince; // System.nanoTime() when the read under way began; NOT_READING between reads
    private boolean watched; // added to the watch; set and read by the reading thread only
    private volatile boolean closed;
    private final int hash = ThreadLocalRandom.current().nextInt(); // for the watched set: cheaper than an identity hash

    private static final long NOT_READING = Long.MIN_VALUE;

    public ReadTimeoutStream(InputStream body, long stallMillis) {
        this.body = body;
        this.stallMillis = stallMillis;
        this.readingSince = NOT_READING;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (stalled) {
            throw new StalledException(stallMillis);
        }
        readingSince = System.nanoTime();
        if (!watched) {
            watched = true;
            UpstreamWatch.add(this);
            if (closed) { // closed meanwhile by another thread: it may have looked before the add
                UpstreamWatch.remove(this);
            }
        }
        try {
            int n = body.read(buffer, offset, length);
            if (stalled) {
                throw new StalledException(stallMillis);
            }
            return n;
        } catch (IOException e) {
            throw stalled ? new StalledException(stallMillis) : e;
        } finally {
            readingSince = NOT_READING;
        }
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** A read under way for the whole stall timeout is a stall: the body is closed under it. */
    @Override
    public void check(long now) {
        long since = readingSince;
        if (since != NOT_READING && now - since >= TimeUnit.MILLISECONDS.toNanos(stallMillis)) {
            stalled = true;
            close();
        }
    }

    /** Closing the body before its end aborts the upstream request; a body must be closed, or it stays watched. */
    @Override
    public void close() {
        closed = true;
        UpstreamWatch.remove(this);
        try {
            body.close();
        } catch (IOException ignored) {
            // nothing more to read either way
        }
    }
}
