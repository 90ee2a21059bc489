package dev.gatehouse.gateway.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Downloads one file into the partial folder: continues a partial file with an HTTP Range request, retries
 * a cut connection from where it stopped, and checks the result (sha256 for LFS files, size for the rest).
 */
final class FileDownload {
    static final int ATTEMPTS = 4;

    private final HubClient hub;
    private final HubRepo repo;
    private final Progress progress;

    FileDownload(HubClient hub, HubRepo repo, Progress progress) {
        this.hub = hub;
        this.repo = repo;
        this.progress = progress;
    }

    /** Downloads (or finds complete) {@code file} under {@code dir}; returns its sha256. */
    String fetch(HubFile file, Path dir) throws IOException {
        Path target = dir.resolve(file.path());
        Files.createDirectories(target.getParent());
        boolean skipped = Files.isRegularFile(target) && Files.size(target) == file.size();
        if (!skipped) {
            download(file, target);
        }
        String sha = verify(file, target);
        progress.fileDone(file, skipped);
        return sha;
    }

    private void download(HubFile file, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) > file.size()) {
            Files.delete(target); // longer than the file can be: not a prefix of it
        }
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            long have = Files.isRegularFile(target) ? Files.size(target) : 0;
            if (have == file.size()) {
                return;
            }
            try {
                copy(file, target, have);
                last = null;
            } catch (HubException e) {
                throw e;
            } catch (IOException e) {
                if (isDiskFull(e)) {
                    throw new HubException("disk full: no space left on the device while writing " + target
                            + "; free " + Progress.bytes(file.size() - Files.size(target))
                            + " or more and pull again (it resumes)", e);
                }
                last = e;
                progress.log("connection lost on " + file.path() + " (" + HubClient.describe(e) + "); resuming");
            }
        }
        if (last != null || Files.size(target) != file.size()) {
            throw new HubException("download of " + file.path() + " kept failing after " + ATTEMPTS + " attempts"
                    + (last != null ? " (" + HubClient.describe(last) + ")" : "") + "; pull again to resume", last);
        }
    }

    private void copy(HubFile file, Path target, long have) throws IOException {
        HubClient.Opened response = hub.open(repo.repo(), repo.commit(), file.path(), have);
        boolean resumed = have > 0 && response.status() == 206;
        if (have > 0 && !resumed) {
            progress.advance(-have); // the server sent the whole file again: start over
        }
        try (InputStream in = response.body();
             OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            long written = resumed ? have : 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                if (written + n > file.size()) {
                    throw new HubException(file.path() + " is longer than the " + file.size()
                            + " bytes the Hub listed; the mirror may be serving another revision");
                }
                out.write(buf, 0, n);
                written += n;
                progress.advance(n);
            }
        }
    }

    /** Checks a complete file; a bad one is deleted, so the next pull fetches it afresh. */
    private static String verify(HubFile file, Path target) throws IOException {
        long size = Files.size(target);
        String sha = Sha256.of(target);
        String problem = size != file.size() ? "size " + size + " bytes, expected " + file.size()
                : file.isLfs() && !file.sha256().equalsIgnoreCase(sha) ? "sha256 " + sha + ", expected " + file.sha256()
                : null;
        if (problem != null) {
            Files.delete(target);
            throw new HubException("corrupted download: " + file.path() + " has " + problem
                    + "; the file was deleted, pull again to fetch it afresh");
        }
        return sha;
    }

    private static boolean isDiskFull(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("No space left")) {
                return true;
            }
        }
        return false;
    }
}
