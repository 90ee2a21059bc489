package dev.gatehouse.gateway.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Hugging Face Hub's HTTP API, as much as a pull needs: resolve a revision to a commit, list its files,
 * open a file (from an offset). Works against any mirror that answers like the Hub ({@code HF_ENDPOINT}).
 */
public final class HubClient {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final int MAX_REDIRECTS = 5;
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String endpoint;
    private final String token;
    private final HttpClient http;

    public HubClient(String endpoint, String token) {
        this.endpoint = stripSlash(endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint);
        this.token = token == null || token.isBlank() ? null : token;
        // Redirects are followed by hand: the token must not travel to the LFS storage host.
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20))
                .build();
    }

    /** {@code HF_ENDPOINT} and {@code HF_TOKEN} from the environment; a non-null token argument wins. */
    public static HubClient fromEnvironment(String token) {
        return new HubClient(System.getenv("HF_ENDPOINT"), token != null ? token : System.getenv("HF_TOKEN"));
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
            HttpResponse<InputStream> response = send(repo, rev, get(url));
            try (InputStream body = response.body()) {
                for (JsonNode e : JSON.readTree(body)) {
                    if (!"file".equals(e.path("type").asText("file"))) {
                        continue;
                    }
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
    public HttpResponse<InputStream> open(String repo, String commit, String path, long offset) {
        HttpRequest.Builder request = get(endpoint + "/" + repo + "/resolve/" + commit + "/" + encodePath(path));
        if (offset > 0) {
            request.header("Range", "bytes=" + offset + "-");
        }
        return send(repo, commit, request);
    }

    private JsonNode getJson(String repo, String rev, String url) {
        HttpResponse<InputStream> response = send(repo, rev, get(url));
        try (InputStream body = response.body()) {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new HubException("cannot read " + url + ": " + e.getMessage(), e);
        }
    }

    private HttpRequest.Builder get(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET().header("User-Agent", "gatehouse/0.1");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /** Sends, follows redirects (dropping the token on another host), and turns error statuses into advice. */
    private HttpResponse<InputStream> send(String repo, String rev, HttpRequest.Builder builder) {
        HttpRequest request = builder.build();
        try {
            for (int hop = 0; ; hop++) {
                HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                int status = response.statusCode();
                if (status / 100 == 3 && hop < MAX_REDIRECTS) {
                    URI from = request.uri();
                    String location = response.headers().firstValue("Location")
                            .orElseThrow(() -> new HubException(from + " redirected without a Location"));
                    response.body().close();
                    request = redirect(request, request.uri().resolve(location));
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
        } catch (IOException e) {
            throw new HubException("request to " + request.uri() + " failed: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted", e);
        }
    }

    private HttpRequest redirect(HttpRequest from, URI to) {
        HttpRequest.Builder b = HttpRequest.newBuilder(to).GET();
        boolean sameHost = Objects.equals(from.uri().getHost(), to.getHost()) && from.uri().getPort() == to.getPort();
        from.headers().map().forEach((name, values) -> {
            if (sameHost || !name.equalsIgnoreCase("Authorization")) {
                values.forEach(v -> b.header(name, v));
            }
        });
        return b.build();
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

    private static void checkRepoName(String repo) {
        if (repo == null || !repo.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new HubException("'" + repo + "' is not a Hub repository name; expected ORG/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct");
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
