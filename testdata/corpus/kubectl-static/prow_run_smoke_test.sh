        local debug_token
        debug_token=$(oc create token "$debug_sa" -n default --duration=4h 2>/dev/null || echo "FAILED")

        echo ""
        echo "========== CLUSTER ACCESS (CI_DEBUG_CLUSTER_ACCESS=true) =========="
        echo "API Server: $(oc whoami --show-server 2>/dev/null)"
        echo "Login command:"
        echo "  oc login --token=${debug_token} --server=$(oc whoami --show-server 2>/dev/null) --insecure-skip-tls-verify"
