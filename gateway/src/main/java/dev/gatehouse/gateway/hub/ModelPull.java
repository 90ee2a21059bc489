package dev.gatehouse.gateway.hub;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Pulls a Hub repository into the model store. Files land in {@code .partial/<name>/} (where an interrupted
 * pull resumes), and the folder moves to {@code <store>/<name>/} with its manifest only once every file is
 * there and checked, so the gateway never sees a half-downloaded model.
 */
public final class ModelPull {
    public static final String PARTIAL_DIR = ".partial";
    static final int PARALLEL_FILES = 4;

    /** The folder a pull of {@code repo} goes to: {@code name}, or ORG--NAME when it is null. */
    public static String folderName(String repo, String name) {
        return name != null ? name : repo.replace("/", "--");
    }

    /** What to pull and where. {@code name} null means ORG--NAME. */
    public record Request(String repo, String revision, List<String> include, List<String> exclude,
                          Path store, String name) {}

    private final HubClient hub;
    private final Progress progress;

    public ModelPull(HubClient hub, Progress progress) {
        this.hub = hub;
        this.progress = progress;
    }

    /** Runs the pull; returns the finished model folder. */
    public Path pull(Request request) throws IOException {
        String name = folderName(request.repo(), request.name());
        checkLocalName(name);
        Path target = request.store().resolve(name);
        HubRepo repo = hub.resolve(request.repo(), request.revision());
        if (Files.exists(target)) {
            Manifest existing = Manifest.read(target);
            if (existing != null && existing.repo().equals(repo.repo()) && existing.commit().equals(repo.commit())) {
                progress.log(name + " is already up to date (" + repo.repo() + " at " + shortSha(repo.commit()) + ")");
                return target;
            }
            throw new HubException(target + " already exists" + (existing != null ? " (" + existing.repo()
                    + " at " + shortSha(existing.commit()) + ")" : "") + "; remove it with `models rm " + name
                    + "` or pick another --name");
        }
        List<HubFile> files = new FileSelection(request.include(), request.exclude()).select(repo.files());
        if (files.isEmpty()) {
            throw new HubException(repo.repo() + " at " + repo.revision() + " has no files matching the selection "
                    + "(defaults: " + String.join(", ", FileSelection.DEFAULT) + "); use --include");
        }
        progress.log("pulling " + repo.repo() + " at " + repo.revision() + " (" + shortSha(repo.commit()) + ") into " + target);

        Path partial = request.store().resolve(PARTIAL_DIR).resolve(name);
        Files.createDirectories(partial);
        requireDiskSpace(files, partial);
        List<Manifest.Entry> entries = download(repo, files, partial);
        removeStrays(files, partial);
        new Manifest(repo.repo(), repo.revision(), repo.commit(), hub.endpoint(), Instant.now().toString(), entries)
                .write(partial);
        moveIntoPlace(partial, target);
        progress.log("done: " + target);
        return target;
    }

    private List<Manifest.Entry> download(HubRepo repo, List<HubFile> files, Path partial) throws IOException {
        long total = files.stream().mapToLong(HubFile::size).sum();
        progress.start(files.size(), total, bytesAlreadyHere(files, partial));
        FileDownload download = new FileDownload(hub, repo, progress);
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL_FILES);
        try {
            List<Future<String>> hashes = new ArrayList<>();
            for (HubFile f : files) {
                hashes.add(pool.submit(() -> download.fetch(f, partial)));
            }
            List<Manifest.Entry> entries = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                entries.add(new Manifest.Entry(files.get(i).path(), files.get(i).size(), await(hashes.get(i))));
            }
            progress.finish();
            return entries;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String await(Future<String> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted; pull again to resume", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof HubException h) {
                throw h;
            }
            if (e.getCause() instanceof IOException io) {
                if (String.valueOf(io.getMessage()).contains("No space left on device")) {
                    throw new HubException("the disk is full: free some space and pull again to resume", io);
                }
                throw io;
            }
            throw new HubException(HubClient.describe(e.getCause()), e.getCause());
        }
    }

    /** Refuses before the first byte when the files cannot fit, rather than failing half way. */
    private static void requireDiskSpace(List<HubFile> files, Path partial) throws IOException {
        long needed = files.stream().mapToLong(HubFile::size).sum() - bytesAlreadyHere(files, partial);
        long free = Files.getFileStore(partial).getUsableSpace();
        if (needed > free) {
            throw new HubException(String.format("not enough disk space in %s: the pull needs %s more, %s are free",
                    partial.getParent().getParent(), Progress.bytes(needed), Progress.bytes(free)));
        }
    }

    /** Files an earlier pull with another selection left in the partial folder: not in this manifest, so not kept. */
    private static void removeStrays(List<HubFile> files, Path partial) throws IOException {
        Set<Path> wanted = new HashSet<>();
        files.forEach(f -> wanted.add(partial.resolve(f.path()).normalize()));
        try (Stream<Path> walk = Files.walk(partial)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (!wanted.contains(p.normalize())) {
                    Files.delete(p);
                }
            }
        }
    }

    private static long bytesAlreadyHere(List<HubFile> files, Path partial) throws IOException {
        long n = 0;
        for (HubFile f : files) {
            Path p = partial.resolve(f.path());
            if (Files.isRegularFile(p)) {
                n += Math.min(Files.size(p), f.size());
            }
        }
        return n;
    }

    private static void moveIntoPlace(Path partial, Path target) throws IOException {
        try {
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, target); // same store, so same file system in practice; plain rename otherwise
        }
    }

    private static void checkLocalName(String name) {
        if (name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new HubException("'" + name + "' cannot name a model folder (no slashes, no leading dot)");
        }
    }

    static String shortSha(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) : sha;
    }
}
