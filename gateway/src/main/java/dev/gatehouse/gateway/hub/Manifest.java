package dev.gatehouse.gateway.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code gatehouse-manifest.json}: what a pull put in a model folder, so {@code models verify} can re-hash it
 * and a later pull knows which commit is already here.
 */
public record Manifest(String repo, String revision, String commit, String endpoint, String downloadedAt,
                       List<Entry> files) {
    public static final String FILE_NAME = "gatehouse-manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record Entry(String path, long size, String sha256) {}

    public void write(Path folder) throws IOException {
        JSON.writeValue(folder.resolve(FILE_NAME).toFile(), this);
    }

    /** The manifest of a model folder, or null when the folder was not made by a pull. */
    public static Manifest read(Path folder) throws IOException {
        Path file = folder.resolve(FILE_NAME);
        return Files.isRegularFile(file) ? JSON.readValue(file.toFile(), Manifest.class) : null;
    }
}
