package dev.gatehouse.gateway.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.backend.ReadTimeoutStream;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Hugging Face Hub's HTTP API, as much as a pull needs: resolve a revision to a commit, list its files,
 * open a file (from an offset). Works against any mirror that answers like the Hub ({@code HF_ENDPOINT}).
 *
 * <p>What the Hub sends is not trusted: a listed file path must stay inside the model folder, the token
 * goes only to the Hub's own scheme, host and port (not to the CDN an LFS file redirects to, nor to a
 * next-page link elsewhere), and every connect, wait for headers and read of a body is timed out.
 */
public final class HubClient {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** As huggingface_hub's {@code HF_HUB_DOWNLOAD_TIMEOUT}: connect, headers and each read of a body. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_REDIRECTS = 5;
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String endpoint;
    private final URI origin;
    private final String token;
    private final Duration timeout;
    private final HttpClient http;

    public HubClient(String endpoint, String token) {
        this(endpoint, token, DEFAULT_TIMEOUT);
    }

    public HubClient(String endpoint, String token, Duration timeout) {
        this.endpoint = stripSlash(endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint);
        this.origin = URI.create(this.endpoint);
        this.token = token == null || token.isBlank() ? null : token;
        this.timeout = timeout;
        // Redirects are followed by hand: the token must not travel to the LFS storage host.
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout)
                .build();
    }

    /**
     * {@code HF_ENDPOINT}, {@code HF_TOKEN} and {@code HF_HUB_DOWNLOAD_TIMEOUT} (seconds, default 10) from
     * the environment; a non-null token argument wins.
     */
    public static HubClient fromEnvironment(String token) {
        return new HubClient(System.getenv("HF_ENDPOINT"), token != null ? token : System.getenv("HF_TOKEN"),
                timeout(System.getenv("HF_HUB_DOWNLOAD_TIMEOUT")));
    }

    static Duration timeout(String seconds) {
        if (seconds == null || seconds.isBlank()) {
            return DEFAULT_TIMEOUT;
        }
        try {
            double s = Double.parseDouble(seconds.trim());
            if (s > 0 && s <= 3600) {
                return Duration.ofMillis((long) Math.ceil(s * 1000));
            }
        } catch (NumberFormatException ignored) {
            // refused below
        }
        throw new HubException("HF_HUB_DOWNLOAD_TIMEOUT must be a number of seconds between 0 and 3600, not '" + seconds + "'");
    }

    public String endpoint() {
        return endpoint;
    }

    /** The revision (branch, tag or commit) pinned to its commit sha, with every file of the repository. */
    public HubRepo resolve(String repo, String revision) {
        checkRepoName(repo);
        String rev = revision == null || revision.isBlank() ? "main" : revision;
        JsonNode info = getJson(repo, rev, endpoint + "/api/models/" + repo + "/revision/" + encode(rev));
        String commit = info.path("sha").asText(null);
        if (commit == null) {
            throw new HubException(endpoint + " returned no commit sha for " + repo + " at " + rev);
        }
        return new HubRepo(repo, rev, commit, listFiles(repo, rev, commit));
    }

    private List<HubFile> listFiles(String repo, String rev, String commit) {
        List<HubFile> files = new ArrayList<>();
        String url = endpoint + "/api/models/" + repo + "/tree/" + commit + "?recursive=true";
        while (url != null) { // the Hub pages long listings with a Link: <...>; rel="next" header
            HttpResponse<InputStream> response = send(repo, rev, uri(url), null);
            try (InputStream body = body(response)) {
                for (JsonNode e : JSON.readTree(body)) {
                    if (!"file".equals(e.path("type").asText("file"))) {
                        continue;
                    }
                    checkFilePath(repo, e.path("path").asText());
                    JsonNode lfs = e.path("lfs");
                    files.add(lfs.isObject()
                            ? new HubFile(e.path("path").asText(), lfs.path("size").asLong(), lfs.path("oid").asText())
                            : new HubFile(e.path("path").asText(), e.path("size").asLong(), null));
                }
            } catch (IOException e) {
                throw new HubException("cannot read the file list of " + repo + " from " + endpoint + ": " + e.getMessage(), e);
            }
            url = response.headers().firstValue("Link").map(HubClient::nextLink).orElse(null);
        }
        return files;
    }

    /**
     * Opens {@code path} at {@code commit}, from byte {@code offset} on. The response is 206 when the server
     * honoured the range and 200 when it sent the whole file; the caller tells them apart.
     */
    public Opened open(String repo, String commit, String path, long offset) {
        URI url = URI.create(endpoint + "/" + repo + "/resolve/" + commit + "/" + encodePath(path));
        HttpResponse<InputStream> response = send(repo, commit, url, offset > 0 ? "bytes=" + offset + "-" : null);
        return new Opened(response.statusCode(), body(response));
    }

    /** A file's response: 206 (the range asked for) or 200 (all of it), and its body with the read timeout. */
    public record Opened(int status, InputStream body) {}

    private JsonNode getJson(String repo, String rev, String url) {
        HttpResponse<InputStream> response = send(repo, rev, URI.create(url), null);
        try (InputStream body = body(response)) {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new HubException("cannot read " + url + ": " + e.getMessage(), e);
        }
    }

    /** A body whose reads fail (as an IOException, so a download resumes) after the timeout without a byte. */
    private InputStream body(HttpResponse<InputStream> response) {
        return new ReadTimeoutStream(response.body(), timeout.toMillis());
    }

    /** A GET of {@code url}; the token only when it goes to the Hub itself (same scheme, host and port). */
    private HttpRequest request(URI url, String range) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).GET().timeout(timeout).header("User-Agent", "gatehouse/0.1");
        if (range != null) {
            b.header("Range", range);
        }
        if (token != null && isHub(url)) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    private boolean isHub(URI url) {
        return origin.getScheme().equalsIgnoreCase(url.getScheme()) && origin.getHost() != null
                && origin.getHost().equalsIgnoreCase(url.getHost()) && port(origin) == port(url);
    }

    private static int port(URI url) {
        return url.getPort() != -1 ? url.getPort() : "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
    }

    /** Sends, follows redirects (the token only to the Hub itself), and turns error statuses into advice. */
    private HttpResponse<InputStream> send(String repo, String rev, URI url, String range) {
        HttpRequest request = request(url, range);
        try {
            for (int hop = 0; ; hop++) {
                HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                int status = response.statusCode();
                if (status / 100 == 3 && hop < MAX_REDIRECTS) {
                    URI from = request.uri();
                    String location = response.headers().firstValue("Location")
                            .orElseThrow(() -> new HubException(from + " redirected without a Location"));
                    response.body().close();
                    request = request(from.resolve(location), range);
                    continue;
                }
                if (status / 100 != 2) {
                    String errorCode = response.headers().firstValue("X-Error-Code").orElse("");
                    response.body().close();
                    throw statusError(repo, rev, status, errorCode, request.uri());
                }
                return response;
            }
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new HubException("cannot reach " + endpoint + " (" + describe(e)
                    + "); check the network, or set HF_ENDPOINT to a mirror", e);
        } catch (HttpTimeoutException e) {
            throw new HubException(request.uri().getHost() + " sent no answer within " + timeout.toMillis()
                    + " ms (HF_HUB_DOWNLOAD_TIMEOUT); check the network, or set HF_ENDPOINT to a mirror", e);
        } catch (IOException e) {
            throw new HubException("request to " + request.uri() + " failed: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted", e);
        }
    }

    private HubException statusError(String repo, String rev, int status, String errorCode, URI uri) {
        String page = endpoint + "/" + repo;
        if (errorCode.equals("GatedRepo") || ((status == 401 || status == 403) && !errorCode.equals("RepoNotFound"))) {
            return new HubException(repo + " is gated or private (HTTP " + status + "): accept the licence at " + page
                    + " and set HF_TOKEN (or --token) to a token of that account");
        }
        if (errorCode.equals("RevisionNotFound")) {
            return new HubException("revision '" + rev + "' not found in " + repo + " (HTTP " + status + "); see " + page + "/tree/main");
        }
        if (errorCode.equals("EntryNotFound")) {
            return new HubException("file not found: " + uri + " (HTTP " + status + ")");
        }
        if (errorCode.equals("RepoNotFound") || status == 404 || status == 401) {
            return new HubException("repository " + repo + " not found at " + endpoint + " (HTTP " + status
                    + "); check the name, or set HF_TOKEN if it is private");
        }
        return new HubException(uri + " answered HTTP " + status);
    }

    /**
     * A path from the listing becomes a file under the model folder, so it must stay inside it: relative,
     * '/'-separated, no empty, '.' or '..' segment, no backslash, no drive letter or other ':', no control
     * characters. A listing that breaks this is not the Hub's: the pull stops, naming the file.
     */
    static void checkFilePath(String repo, String path) {
        boolean safe = !path.isEmpty() && !path.startsWith("/") && path.chars().noneMatch(c -> c == '\\' || c == ':' || c < 0x20 || c == 0x7f);
        for (String segment : path.split("/", -1)) {
            safe &= !segment.isEmpty() && !segment.equals(".") && !segment.equals("..");
        }
        if (!safe) {
            throw new HubException("the file list of " + repo + " names '" + path.replaceAll("\\p{Cntrl}", "?")
                    + "', which is not a path inside the model folder; refusing to pull");
        }
    }

    private static void checkRepoName(String repo) {
        if (repo == null || !repo.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new HubException("'" + repo + "' is not a Hub repository name; expected ORG/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct");
        }
    }

    /** A URL the Hub gave (a next-page link); one that does not parse is the Hub's error, not a crash. */
    private URI uri(String url) {
        try {
            return URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new HubException(endpoint + " sent a link that is not a URL: " + url.replaceAll("\\p{Cntrl}", "?"), e);
        }
    }

    private static String nextLink(String header) {
        Matcher m = NEXT_LINK.matcher(header);
        return m.find() ? m.group(1) : null;
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        return String.join("/", java.util.Arrays.stream(path.split("/")).map(HubClient::encode).toList());
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
