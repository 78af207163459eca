// Package deploy holds what runs oktasync beyond one machine: deploy/Dockerfile
// and the Kubernetes manifests under deploy/kubernetes (deploy/README.md). It has
// no code; its tests check those files, so that only this package's tests
// import the Kubernetes API types.
package deploy
