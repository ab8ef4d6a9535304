"""The embedded Kubernetes cluster meshstack's real-engine tests and ``make up`` run against.

One cluster is a directory (its state, certificates, data and logs) and, when it has a real node,
an index ``N`` that names everything it creates on the host. It is made of parts, each started,
checked and stopped the same way (:class:`~embedded.parts.Part`), in this order:

==================  ===========================================================================
part                what it owns
==================  ===========================================================================
``pki``             the cluster CA, serving and client certificates, kubeconfigs (files)
``network``         (real node) netns ``msnode-N``, veth ``msnN-h``/``msnN-n`` (10.200.N.1/30 and
                    .2/30), the pod bridge ``cni0`` in the netns, the route to the node's pod CIDR
                    10.244.N.0/24 in the root netns, and the guard routes (``unreachable``, worst
                    metric) for 10.96/16, 10.200/16, 10.244/16, 10.1/16 while any node runs
``control-plane``   etcd, kube-apiserver, kube-controller-manager, kube-scheduler (processes)
``kwok``            kwok and its fake nodes (tainted ``meshstack.io/fake-node`` beside a real node)
``node``            (real node) containerd, the images imported into it, kubelet, kube-proxy, the
                    cgroup root ``/msnode-N`` and containerd's pod sandboxes and shims
``placement``       (real node) the admission policy that sends a pod whose images the node does
                    not have to the fake nodes
``dns``             (real node) CoreDNS in kube-system at 10.96.0.10
``storage``         a default StorageClass and a few pre-made volumes
==================  ===========================================================================

Test traffic stays on loopback and inside the network namespaces the ``network`` part makes:
pod and Service addresses exist only there and on its bridge; nothing is routed or NATed to the
machine's own interfaces (the root netns gets one route, to the node's pod CIDR, for the API
server's webhook calls; the node netns has no default route).

Python 3.11 standard library only (it runs before any virtualenv exists).
"""
