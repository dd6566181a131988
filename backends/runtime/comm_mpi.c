/* The Open MPI communicator: the one file that includes mpi.h.  It does the
 * two exchanges the collectives are made of (comm.c sums in rank order);
 * errors come back as values (MPI_ERRORS_RETURN), never as an abort. */
#include "base/alloc.h"
#include "backends/runtime/comm.h"

#include <mpi.h>
#include <stdlib.h>

static MPI_Datatype mpi_type(gc_dtype dt) {
  switch (dt) {
  case GC_F32: return MPI_FLOAT;
  case GC_F64: return MPI_DOUBLE;
  case GC_I32: return MPI_INT32_T;
  case GC_I64: return MPI_INT64_T;
  default: return MPI_BYTE;   /* bool: one byte */
  }
}

static int mpi_error(int code, const char *what, gc_diag *d) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) len = 0;
  msg[len] = 0;
  return gc_diag_set(d, "%s: MPI: %s", what, len ? msg : "error");
}

static int all_gather(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d) {
  (void)c;
  int rc = MPI_Allgather(in, (int)n, mpi_type(dt), out, (int)n, mpi_type(dt), MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "all_gather", d);
}

static int all_to_all(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d) {
  (void)c;
  int rc = MPI_Alltoall(in, (int)n, mpi_type(dt), out, (int)n, mpi_type(dt), MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "reduce_scatter", d);
}

static void mpi_free(gc_comm *c) {
  gc_free(c->scratch);
  free(c);
  MPI_Finalize();
}

static const gc_comm_ops mpi_ops = {"mpi", all_gather, all_to_all, mpi_free};

/* Set by Open MPI's launcher (mpirun, and PMIx-based ones) in each rank. */
static bool under_mpirun(void) { return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK"); }

gc_comm *gc_comm_world(gc_diag *d) {
  if (!under_mpirun()) return (gc_comm *)gc_comm_local();
  int rc = MPI_Init(NULL, NULL);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Init", d), NULL;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  gc_comm *c = calloc(1, sizeof *c);
  if (c) {
    c->ops = &mpi_ops;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
  }
  if (!c || !(c->scratch = gc_alloc_uninit(2 * (size_t)c->size * (size_t)GC_COMM_CHUNK * sizeof(double)))) {
    free(c);
    MPI_Finalize();
    return gc_diag_set(d, "out of memory for the communicator"), NULL;
  }
  return c;
}
