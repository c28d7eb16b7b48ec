package api

// coverageRoutes registers the coverage and blind-spot report endpoints.
func (s *Server) coverageRoutes(read []string) {}
