package dev.gearbox.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every manifest under deploy/k8s parses into the Kubernetes API model (fabric8) with no field
 * the model does not know (a misspelt key would otherwise be dropped by the API server), and the
 * pieces fit together: probes on /health at the container's port, the Service and PodMonitor
 * select the Deployment's pods, the HPA scales the Deployment on gearbox_queue_depth, the GPU
 * limit is there, the command is gearbox serve as documented, and kustomization.yaml lists
 * every manifest. No cluster is involved: this checks the files, not a rollout.
 */
class DeployManifestsTest {
    private static final Path DIR = Path.of("deploy", "k8s");
    private static final Map<String, HasMetadata> byFile = new LinkedHashMap<>();
    private static Map<String, Object> kustomization;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void parse() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                String name = p.getFileName().toString();
                String text = Files.readString(p);
                if (name.equals("kustomization.yaml")) {
                    kustomization = Serialization.unmarshal(text, Map.class);
                    continue;
                }
                Object o = Serialization.unmarshal(text);
                assertThat(o).as(name + " is one Kubernetes object").isInstanceOf(HasMetadata.class);
                byFile.put(name, (HasMetadata) o);
            }
        }
        assertThat(kustomization).as("kustomization.yaml").isNotNull();
    }

    private static <T extends HasMetadata> T only(Class<T> type) {
        List<T> found = byFile.values().stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(found).as("one " + type.getSimpleName()).hasSize(1);
        return found.getFirst();
    }

    @Test
    void everyManifestIsATypedObjectWithNoUnknownFields() {
        assertThat(byFile.values()).extracting(o -> o.getClass().getSimpleName())
                .contains("Deployment", "Service", "PersistentVolumeClaim", "PodMonitor", "HorizontalPodAutoscaler");
        for (var e : byFile.entrySet()) {
            assertThat(e.getValue().getClass().getSimpleName()).as(e.getKey() + ": a kind the model knows").isNotEqualTo("GenericKubernetesResource");
            List<String> unknown = new ArrayList<>();
            unknownFields(e.getValue(), e.getValue().getKind(), unknown, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
            assertThat(unknown).as(e.getKey() + ": fields the " + e.getValue().getKind() + " schema lacks").isEmpty();
            assertThat(e.getValue().getMetadata().getName()).as(e.getKey() + " name").isNotBlank();
        }
    }

    @Test
    void kustomizationListsEveryManifest() {
        @SuppressWarnings("unchecked")
        List<String> resources = (List<String>) kustomization.get("resources");
        assertThat(kustomization.get("kind")).isEqualTo("Kustomization");
        assertThat(resources).containsExactlyInAnyOrderElementsOf(byFile.keySet());
        for (String r : resources) assertThat(DIR.resolve(r)).exists();
        // an images entry rewrites nothing unless its name is the container image's name (tag stripped)
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> images = (List<Map<String, Object>>) kustomization.getOrDefault("images", List.of());
        String image = only(Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst().getImage();
        String imageName = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
        assertThat(images).allSatisfy(i -> assertThat(i.get("name")).isEqualTo(imageName));
    }

    @Test
    void theContainerServesOnAllInterfacesWithTheLadderAndKeysFromVolumes() {
        Deployment d = only(Deployment.class);
        Container c = d.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(c.getArgs()).containsExactly("serve", "--host", "0.0.0.0", "--port", "8080",
                "--ladder", "/models/ladder.yaml", "--api-keys", "/secrets/keys");
        assertThat(c.getPorts()).anySatisfy(p -> {
            assertThat(p.getContainerPort()).isEqualTo(8080);
            assertThat(p.getName()).isEqualTo("http");
        });
        Map<String, Volume> volumes = new LinkedHashMap<>();
        d.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
        Map<String, String> mounts = new LinkedHashMap<>();
        for (VolumeMount m : c.getVolumeMounts()) mounts.put(m.getMountPath(), m.getName());
        // /models from the PVC of this base, /secrets/keys from the Secret's "keys" item
        Volume models = volumes.get(mounts.get("/models"));
        assertThat(models.getPersistentVolumeClaim().getClaimName()).isEqualTo(only(PersistentVolumeClaim.class).getMetadata().getName());
        Volume keys = volumes.get(mounts.get("/secrets"));
        assertThat(keys.getSecret().getSecretName()).isEqualTo("gearbox-api-keys");
        assertThat(keys.getSecret().getItems()).anySatisfy(i -> {
            assertThat(i.getKey()).isEqualTo("keys");
            assertThat(i.getPath()).isEqualTo("keys");
        });
        // a read-only root filesystem needs a writable /tmp (JVM, JavaCPP's cache)
        if (Boolean.TRUE.equals(c.getSecurityContext().getReadOnlyRootFilesystem())) {
            assertThat(volumes.get(mounts.get("/tmp")).getEmptyDir()).isNotNull();
        }
    }

    @Test
    void everyProbeHitsHealthOnTheContainersPort() {
        Container c = only(Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(c.getReadinessProbe()).isNotNull();
        assertThat(c.getLivenessProbe()).isNotNull();
        for (Probe p : Stream.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe()).filter(java.util.Objects::nonNull).toList()) {
            HTTPGetAction get = p.getHttpGet();
            assertThat(get).isNotNull();
            assertThat(get.getPath()).isEqualTo("/health");
            assertThat(resolvePort(c, get.getPort())).isEqualTo(8080);
        }
    }

    private static int resolvePort(Container c, IntOrString port) {
        if (port.getIntVal() != null) return port.getIntVal();
        return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal())).getContainerPort();
    }

    @Test
    void theGpuLimitIsSetAsAnExtendedResourceLimit() {
        Container c = only(Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
        Quantity gpu = c.getResources().getLimits().get("nvidia.com/gpu");
        assertThat(gpu).as("limits nvidia.com/gpu").isNotNull();
        assertThat(Quantity.getAmountInBytes(gpu).intValueExact()).isEqualTo(1);
        // extended resources cannot be overcommitted: a request, if any, must equal the limit
        Quantity req = c.getResources().getRequests() == null ? null : c.getResources().getRequests().get("nvidia.com/gpu");
        if (req != null) assertThat(req).isEqualTo(gpu);
    }

    @Test
    void theServiceSelectsTheDeploymentsPodsAndReachesItsPort() {
        Deployment d = only(Deployment.class);
        Service s = only(Service.class);
        Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(s.getSpec().getSelector()).isNotEmpty();
        assertThat(podLabels).containsAllEntriesOf(s.getSpec().getSelector());
        // the Deployment's own selector must match its template too, or the API server refuses it
        assertThat(podLabels).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
        Container c = d.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(s.getSpec().getPorts()).anySatisfy(p -> assertThat(resolvePort(c, p.getTargetPort())).isEqualTo(8080));
    }

    @Test
    void thePodMonitorScrapesMetricsFromTheDeploymentsPods() {
        Deployment d = only(Deployment.class);
        PodMonitor pm = only(PodMonitor.class);
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(pm.getSpec().getSelector().getMatchLabels());
        Container c = d.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(pm.getSpec().getPodMetricsEndpoints()).isNotEmpty().allSatisfy(e -> {
            assertThat(e.getPath()).isEqualTo("/metrics");
            assertThat(c.getPorts()).anySatisfy(p -> assertThat(p.getName()).isEqualTo(e.getPort()));
        });
    }

    @Test
    void theHpaScalesTheDeploymentOnQueueDepthPerPod() {
        Deployment d = only(Deployment.class);
        HorizontalPodAutoscaler h = only(HorizontalPodAutoscaler.class);
        var ref = h.getSpec().getScaleTargetRef();
        assertThat(ref.getApiVersion()).isEqualTo(d.getApiVersion());
        assertThat(ref.getKind()).isEqualTo(d.getKind());
        assertThat(ref.getName()).isEqualTo(d.getMetadata().getName());
        assertThat(h.getSpec().getMinReplicas()).isGreaterThanOrEqualTo(1);
        assertThat(h.getSpec().getMaxReplicas()).isGreaterThan(h.getSpec().getMinReplicas());
        assertThat(h.getSpec().getMetrics()).anySatisfy(m -> {
            assertThat(m.getType()).isEqualTo("Pods");
            assertThat(m.getPods().getMetric().getName()).isEqualTo("gearbox_queue_depth");
            assertThat(m.getPods().getTarget().getType()).isEqualTo("AverageValue");
            assertThat(Quantity.getAmountInBytes(m.getPods().getTarget().getAverageValue()).signum()).isPositive();
        });
    }

    /** Walks a model object's getters, collecting paths of any additionalProperties (keys the schema does not have). */
    private static void unknownFields(Object o, String path, List<String> out, Set<Object> seen) {
        if (o == null || !seen.add(o)) return;
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object x : c) unknownFields(x, path + "[" + i++ + "]", out, seen);
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) unknownFields(e.getValue(), path + "." + e.getKey(), out, seen);
            return;
        }
        if (!(o instanceof KubernetesResource)) return;
        for (Method g : o.getClass().getMethods()) {
            if (g.getParameterCount() != 0 || Modifier.isStatic(g.getModifiers()) || !g.getName().startsWith("get")
                    || g.getDeclaringClass() == Object.class) continue;
            Object v;
            try {
                v = g.invoke(o);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            if (g.getName().equals("getAdditionalProperties")) {
                if (v instanceof Map<?, ?> extra && !extra.isEmpty()) out.add(path + ": " + extra.keySet());
                continue;
            }
            unknownFields(v, path + "." + g.getName().substring(3), out, seen);
        }
    }
}
