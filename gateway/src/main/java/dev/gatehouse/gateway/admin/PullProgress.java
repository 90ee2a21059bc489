package dev.gatehouse.gateway.admin;

import dev.gatehouse.gateway.hub.HubFile;
import dev.gatehouse.gateway.hub.Progress;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/** A pull's progress kept as counters for {@code GET /admin/models/pulls/{id}}; its log lines go to the server log. */
final class PullProgress extends Progress {
    private static final Logger LOG = Logger.getLogger(PullProgress.class.getName());

    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicInteger filesDone = new AtomicInteger();
    private volatile long bytesTotal;
    private volatile int filesTotal;

    PullProgress() {
        super(new PrintWriter(Writer.nullWriter()), false); // nothing printed: every method that prints is overridden
    }

    @Override
    public void start(int files, long totalBytes, long alreadyBytes) {
        filesTotal = files;
        bytesTotal = totalBytes;
        bytesDone.set(alreadyBytes);
        log("downloading " + files + " files, " + totalBytes + " bytes (" + alreadyBytes + " already here)");
    }

    @Override
    public void advance(long n) {
        bytesDone.addAndGet(n);
    }

    @Override
    public void fileDone(HubFile file, boolean skipped) {
        filesDone.incrementAndGet();
    }

    @Override
    public void log(String line) {
        LOG.info(line);
    }

    @Override
    public void finish() {
    }

    long bytesDone() {
        return bytesDone.get();
    }

    long bytesTotal() {
        return bytesTotal;
    }

    int filesDone() {
        return filesDone.get();
    }

    int filesTotal() {
        return filesTotal;
    }
}
