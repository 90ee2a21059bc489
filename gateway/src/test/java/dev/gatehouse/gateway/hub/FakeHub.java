package dev.gatehouse.gateway.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * A Hugging Face Hub on loopback that answers the way the real one does, as far as a pull sees it:
 * {@code /api/models/{repo}/revision/{rev}} (sha, siblings), {@code /api/models/{repo}/tree/{rev}?recursive=true}
 * (paged with a {@code Link: rel="next"} header like the Hub), {@code HEAD}/{@code GET /{repo}/resolve/{rev}/{path}}
 * with {@code X-Repo-Commit} and {@code ETag}; LFS files answer 302 to a storage server on another port (the CDN) with
 * {@code X-Linked-Etag} and {@code X-Linked-Size}; Range requests get 206; a gated repo answers 401 without its
 * token; unknown repos and revisions answer with the Hub's {@code X-Error-Code}s.
 * Faults for tests: cut the first GET of a file midway, serve wrong bytes for a file, go silent midway
 * through a file or before answering the API, list a file under any path, page the listing on another host.
 */
public final class FakeHub implements AutoCloseable {
    static final int TREE_PAGE = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    record Repo(String commit, Map<String, byte[]> files, String token) {}

    /** One request as the fake saw it. */
    record Seen(String method, String path, String range, String authorization, boolean onStorage) {}

    private final HttpServer server;
    /** LFS storage on its own port, standing in for the Hub's CDN host. */
    private final HttpServer storage;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Set<String> cutOnce = ConcurrentHashMap.newKeySet();
    private final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> advertised = new ConcurrentHashMap<>();
    private final Set<String> stallOnce = ConcurrentHashMap.newKeySet();
    private volatile boolean apiSilent;
    private volatile boolean pagesOnStorage;
    private volatile boolean closed;
    final List<Seen> seen = new CopyOnWriteArrayList<>();

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        storage = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        storage.createContext("/", this::handle);
        storage.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        storage.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Serves every file under {@code folder} as repository {@code repo} at {@code commit}; gated when token != null. */
    public FakeHub add(String repo, Path folder, String commit, String token) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.put(folder.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        repos.put(repo, new Repo(commit, files, token));
        return this;
    }

    /** The first GET of {@code path}'s content sends half the bytes and drops the connection. */
    void cutFirstDownload(String path) {
        cutOnce.add(path);
    }

    /** The first GET of {@code path}'s content sends half the bytes, then nothing until the fake closes. */
    void stallFirstDownload(String path) {
        stallOnce.add(path);
    }

    /** The API answers nothing (not even headers) until the fake closes. */
    void silenceApi() {
        apiSilent = true;
    }

    /** The listing's next-page links point at the storage host (another origin) instead of the Hub. */
    void pageListingOnStorageHost() {
        pagesOnStorage = true;
    }

    /** Lists {@code path} in {@code repo} as it is, which need not be a path a real Hub would list. */
    void list(String repo, String path, byte[] content) {
        repos.get(repo).files().put(path, content);
    }

    private void waitUntilClosed() {
        while (!closed) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The tree lists LFS file {@code path} as {@code size} bytes, whatever it really holds. */
    void advertiseSize(String path, long size) {
        advertised.put(path, size);
    }

    /** Every GET of {@code path}'s content sends the right length but wrong bytes. */
    void corrupt(String path) {
        corrupt.add(path);
    }

    static boolean isLfs(String path) {
        return path.endsWith(".safetensors") || path.endsWith(".bin") || path.endsWith(".onnx");
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String gitSha1(byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            seen.add(new Seen(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Range"),
                    ex.getRequestHeaders().getFirst("Authorization"),
                    ex.getLocalAddress().getPort() == storage.getAddress().getPort()));
            String[] parts = path.substring(1).split("/", -1);
            if (parts.length >= 6 && parts[0].equals("api") && parts[1].equals("models")) {
                api(ex, parts[2] + "/" + parts[3], parts[4], String.join("/", List.of(parts).subList(5, parts.length)));
            } else if (parts.length == 2 && parts[0].equals("lfs-storage")) {
                lfs(ex, parts[1]);
            } else if (parts.length >= 5 && parts[2].equals("resolve")) {
                resolve(ex, parts[0] + "/" + parts[1], parts[3], String.join("/", List.of(parts).subList(4, parts.length)));
            } else {
                error(ex, 404, null, "not found");
            }
        }
    }

    private Repo repoOr401(HttpExchange ex, String name) throws IOException {
        Repo repo = repos.get(name);
        if (repo == null) { // the Hub does not say whether a private repo exists
            error(ex, 401, "RepoNotFound", "Repository Not Found for url");
        }
        return repo;
    }

    private boolean revisionOk(HttpExchange ex, Repo repo, String rev) throws IOException {
        if (rev.equals("main") || rev.equals(repo.commit())) {
            return true;
        }
        error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
        return false;
    }

    private void api(HttpExchange ex, String name, String kind, String rev) throws IOException {
        if (apiSilent) {
            waitUntilClosed();
            return;
        }
        Repo repo = repoOr401(ex, name);
        if (repo == null || !revisionOk(ex, repo, rev)) {
            return;
        }
        if (kind.equals("revision")) {
            List<Map<String, Object>> siblings = repo.files().keySet().stream()
                    .map(f -> Map.<String, Object>of("rfilename", f)).toList();
            json(ex, Map.of("id", name, "sha", repo.commit(), "siblings", siblings, "gated", repo.token() != null));
        } else if (kind.equals("tree")) {
            List<String> paths = new ArrayList<>(repo.files().keySet());
            String query = ex.getRequestURI().getQuery() == null ? "" : ex.getRequestURI().getQuery();
            int from = query.contains("cursor=") ? Integer.parseInt(query.replaceAll(".*cursor=(\\d+).*", "$1")) : 0;
            int to = Math.min(paths.size(), from + TREE_PAGE);
            List<Map<String, Object>> page = new ArrayList<>();
            for (String p : paths.subList(from, to)) {
                byte[] b = repo.files().get(p);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("type", "file");
                e.put("oid", gitSha1(b));
                e.put("size", isLfs(p) ? 135 : b.length); // an LFS entry's own size is its pointer's
                e.put("path", p);
                if (isLfs(p)) {
                    e.put("lfs", Map.of("oid", sha256(b), "size", advertised.getOrDefault(p, (long) b.length),
                            "pointerSize", 135));
                }
                page.add(e);
            }
            if (to < paths.size()) {
                String host = pagesOnStorage ? "http://127.0.0.1:" + storage.getAddress().getPort() : url();
                ex.getResponseHeaders().add("Link", "<" + host + "/api/models/" + name + "/tree/" + rev
                        + "?recursive=true&cursor=" + to + ">; rel=\"next\"");
            }
            json(ex, page);
        } else {
            error(ex, 404, null, "not found");
        }
    }

    private void resolve(HttpExchange ex, String name, String rev, String file) throws IOException {
        Repo repo = repoOr401(ex, name);
        if (repo == null || !revisionOk(ex, repo, rev)) {
            return;
        }
        if (repo.token() != null && !("Bearer " + repo.token()).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            error(ex, 401, "GatedRepo", "Access to model " + name + " is restricted. You must have access to it and be authenticated to access it.");
            return;
        }
        byte[] b = repo.files().get(file);
        if (b == null) {
            error(ex, 404, "EntryNotFound", file + " does not exist on \"" + rev + "\"");
            return;
        }
        ex.getResponseHeaders().add("X-Repo-Commit", repo.commit());
        if (isLfs(file)) {
            String sha = sha256(b);
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(b.length));
            ex.getResponseHeaders().add("ETag", "\"" + gitSha1(b) + "\"");
            ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + storage.getAddress().getPort()
                    + "/lfs-storage/" + sha + "?file=" + file);
            ex.sendResponseHeaders(302, -1);
            return;
        }
        ex.getResponseHeaders().add("ETag", "\"" + gitSha1(b) + "\"");
        content(ex, file, b);
    }

    private void lfs(HttpExchange ex, String sha) throws IOException {
        for (Repo repo : repos.values()) {
            for (var e : repo.files().entrySet()) {
                if (sha256(e.getValue()).equals(sha)) {
                    content(ex, e.getKey(), e.getValue());
                    return;
                }
            }
        }
        error(ex, 404, null, "no such object");
    }

    /** The file's bytes, honouring {@code Range: bytes=N-}, with the configured faults. */
    private void content(HttpExchange ex, String file, byte[] bytes) throws IOException {
        byte[] b = bytes;
        if (corrupt.contains(file)) {
            b = bytes.clone();
            for (int i = 0; i < b.length; i++) {
                b[i] ^= 0x5a;
            }
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        int from = range != null ? Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1")) : 0;
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        if (from > 0) {
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
        }
        int status = from > 0 ? 206 : 200;
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().add("Content-Length", String.valueOf(b.length - from));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, b.length - from);
        OutputStream out = ex.getResponseBody();
        if (cutOnce.remove(file)) {
            out.write(b, from, (b.length - from) / 2);
            out.flush();
            // ending short of Content-Length drops the connection, as a network failure would
            throw new IOException("cut on purpose");
        }
        if (stallOnce.remove(file)) {
            out.write(b, from, (b.length - from) / 2);
            out.flush();
            waitUntilClosed();
            throw new IOException("stalled on purpose");
        }
        out.write(b, from, b.length - from);
    }

    private static void json(HttpExchange ex, Object body) throws IOException {
        byte[] b = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().add("X-Error-Code", code);
        }
        byte[] b = JSON.writeValueAsBytes(Map.of("error", message));
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        closed = true;
        server.stop(0);
        storage.stop(0);
    }
}
