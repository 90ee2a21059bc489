package dev.gatehouse.gateway.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The model store on disk: list its models, remove one, re-check one against its manifest. */
public final class StoredModels {
    private final Path store;

    public StoredModels(Path store) {
        this.store = store;
    }

    /** Every model folder (hidden ones such as .partial are pulls in progress, not models), by name. */
    public List<StoredModel> list() throws IOException {
        if (!Files.isDirectory(store)) {
            return List.of();
        }
        List<StoredModel> models = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(store)) {
            for (Path dir : dirs.filter(Files::isDirectory).filter(d -> !d.getFileName().toString().startsWith("."))
                    .sorted().toList()) {
                Manifest manifest = readManifestQuietly(dir);
                models.add(new StoredModel(dir.getFileName().toString(), ServableCheck.architecture(dir),
                        WeightsSummary.of(dir), sizeOnDisk(dir), ServableCheck.servable(dir),
                        manifest == null ? null : manifest.repo()));
            }
        }
        return models;
    }

    /** Deletes the model folder and any unfinished pull of the same name; returns the bytes freed. */
    public long remove(String name) throws IOException {
        Path dir = folder(name);
        long size = sizeOnDisk(dir);
        deleteTree(dir);
        Path partial = store.resolve(ModelPull.PARTIAL_DIR).resolve(name);
        if (Files.isDirectory(partial)) {
            size += sizeOnDisk(partial);
            deleteTree(partial);
        }
        return size;
    }

    /** Re-hashes every file the manifest lists; returns one line per problem (empty when all match). */
    public List<String> verify(String name) throws IOException {
        Path dir = folder(name);
        Manifest manifest = Manifest.read(dir);
        if (manifest == null) {
            throw new HubException(name + " has no " + Manifest.FILE_NAME
                    + " (it was not pulled with `models pull`), so there is nothing to verify it against");
        }
        List<String> problems = new ArrayList<>();
        for (Manifest.Entry e : manifest.files()) {
            Path file = dir.resolve(e.path());
            if (!Files.isRegularFile(file)) {
                problems.add(e.path() + ": missing");
            } else if (Files.size(file) != e.size()) {
                problems.add(e.path() + ": size " + Files.size(file) + " bytes, manifest says " + e.size());
            } else {
                String sha = Sha256.of(file);
                if (!sha.equalsIgnoreCase(e.sha256())) {
                    problems.add(e.path() + ": sha256 " + sha + ", manifest says " + e.sha256());
                }
            }
        }
        return problems;
    }

    public Manifest manifest(String name) throws IOException {
        return Manifest.read(folder(name));
    }

    private Path folder(String name) throws IOException {
        if (name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new HubException("'" + name + "' is not a model name in the store (no slashes, no leading dot)");
        }
        Path dir = store.resolve(name);
        if (!Files.isDirectory(dir)) {
            List<String> names = list().stream().map(StoredModel::name).toList();
            throw new HubException("no model '" + name + "' in " + store.toAbsolutePath()
                    + (names.isEmpty() ? " (the store is empty)" : "; models: " + String.join(", ", names)));
        }
        return dir;
    }

    private static Manifest readManifestQuietly(Path dir) {
        try {
            return Manifest.read(dir);
        } catch (IOException e) {
            return null;
        }
    }

    static long sizeOnDisk(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            long total = 0;
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
