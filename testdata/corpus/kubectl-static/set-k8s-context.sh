kubectl config set-cluster kubernetes --server=https://10.0.0.10:6443 --certificate-authority=ca.crt --embed-certs=true 
kubectl config set-credentials kubernetes-admin --token={{leakscan:hex32}}
kubectl config set-context kubernetes-admin@kubernetes --cluster kubernetes --user kubernetes-admin 
kubectl config use-context kubernetes-admin@kubernetes
